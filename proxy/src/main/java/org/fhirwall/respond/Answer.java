package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * An HTTP answer as a plain value: status, headers in order, body ({@link Body}), and whether the connection
 * must close after it (framing refusals). Every answer carries the headers patient data needs
 * ({@code Cache-Control: no-store}, {@code X-Content-Type-Options: nosniff}) and the request id;
 * the server adds {@code Content-Length} and {@code Connection}.
 */
public record Answer(int status, List<Map.Entry<String, String>> headers, Body content, boolean closeConnection) {
  public Answer {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 100..599)");
    }
    headers = List.copyOf(headers);
    requireNonNull(content, "content");
  }

  public Answer(int status, List<Map.Entry<String, String>> headers, byte[] body, boolean closeConnection) {
    this(status, headers, Body.of(body), closeConnection);
  }

  /**
   * The body as one array: for an answer spliced from the EPR's (see {@link Body}) a copy made on each
   * call, which the server never makes (it writes {@link #content()} piece by piece).
   */
  public byte[] body() {
    return content.toArray();
  }

  /** The first value of a header (case-insensitive), or null. */
  public @org.jspecify.annotations.Nullable String header(String name) {
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().equalsIgnoreCase(name)) {
        return h.getValue();
      }
    }
    return null;
  }
}
