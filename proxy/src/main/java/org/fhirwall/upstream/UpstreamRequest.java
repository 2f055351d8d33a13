package org.fhirwall.upstream;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * A request to the EPR in the form fhirwall re-serialised it.
 *
 * @param target path and query relative to the upstream base URL, without a leading slash
 *     ({@code Patient/1}, {@code Observation?code=x}, empty for the base itself)
 * @param headers headers to send besides the ones the client always sets (Host, Accept,
 *     Accept-Encoding, Content-Length, Connection)
 */
public record UpstreamRequest(String method, String target, List<Map.Entry<String, String>> headers, byte[] body) {
  public UpstreamRequest {
    requireNonNull(method, "method");
    requireNonNull(target, "target");
    if (target.startsWith("/")) {
      throw new IllegalArgumentException("target: " + target + " (expected: relative to the upstream base, no leading /)");
    }
    headers = List.copyOf(headers);
    requireNonNull(body, "body");
  }

  /** GET, HEAD, PUT and DELETE may be sent again when a pooled connection turned out to be closed. */
  public boolean idempotent() {
    return method.equals("GET") || method.equals("HEAD") || method.equals("PUT") || method.equals("DELETE");
  }
}
