package org.fhirwall.server;

import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 requests as a client of fhirwall writes them, for the exchange tests: to {@code /fhir/...} on host
 * {@code proxy}, with the bearer token {@code good} that the tests' authenticators accept. A {@code |} in a path is
 * percent-encoded, as a client's library would.
 */
final class Wire {
  static final String JSON = "application/fhir+json";
  static final String JSON_PATCH = "application/json-patch+json";

  private Wire() {}

  /** GET {@code target}: relative to fhirwall's base ({@code Patient?...}), or a query on the base itself ({@code ?...}). */
  static String get(String target) {
    return "GET " + path(target) + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n";
  }

  /** DELETE {@code path}, without a body. */
  static String delete(String path) {
    return "DELETE " + path(path) + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n";
  }

  /** {@code method} {@code path} with a FHIR JSON {@code body}; {@code headers} are whole lines, without line ends. */
  static String json(String method, String path, String body, String... headers) {
    return write(method, path, JSON, body, headers);
  }

  /**
   * {@code method} {@code path} with {@code body} of {@code contentType} (none when null); {@code headers} are whole
   * lines, without line ends.
   */
  static String write(String method, String path, String contentType, String body, String... headers) {
    StringBuilder w = new StringBuilder(method).append(' ').append(path(path)).append(" HTTP/1.1\r\nHost: proxy\r\n")
        .append("Authorization: Bearer good\r\n");
    if (contentType != null) {
      w.append("Content-Type: ").append(contentType).append("\r\n");
    }
    for (String h : headers) {
      w.append(h).append("\r\n");
    }
    return w.append("Content-Length: ").append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n")
        .append(body).toString();
  }

  private static String path(String target) {
    String t = target.replace("|", "%7C");
    return t.isEmpty() || t.startsWith("?") ? "/fhir" + t : "/fhir/" + t;
  }
}
