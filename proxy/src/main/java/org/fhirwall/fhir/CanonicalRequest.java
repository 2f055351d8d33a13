package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * fhirwall's own re-serialisation of a {@link FhirRequest}, the only form it sends to the EPR.
 *
 * @param method the HTTP method
 * @param target path and query relative to the EPR base URL, without a leading slash:
 *     {@code Patient/1}, {@code Patient?name=smith}, {@code metadata}, empty for the base itself,
 *     {@code ?_type=Patient} for a system search
 * @param headers the headers to send (content type, preconditions, sanitised {@code Prefer},
 *     trace context); the upstream client adds Host, Accept, Content-Length and Connection
 * @param body the body to send, empty for none
 */
public record CanonicalRequest(String method, String target, List<RawRequest.Header> headers, FhirRequest.Body body) {
  public CanonicalRequest {
    requireNonNull(method, "method");
    requireNonNull(target, "target");
    if (target.startsWith("/")) {
      throw new IllegalArgumentException("target: must be relative to the EPR base (no leading /)");
    }
    headers = List.copyOf(headers);
    requireNonNull(body, "body");
  }
}
