package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * An HTTP answer as a plain value: status, headers in order, body, and whether the connection
 * must close after it (framing refusals). Every answer carries the headers patient data needs
 * ({@code Cache-Control: no-store}, {@code X-Content-Type-Options: nosniff}) and the request id;
 * the server adds {@code Content-Length} and {@code Connection}.
 */
public record Answer(int status, List<Map.Entry<String, String>> headers, byte[] body, boolean closeConnection) {
  public Answer {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 100..599)");
    }
    headers = List.copyOf(headers);
    requireNonNull(body, "body");
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
