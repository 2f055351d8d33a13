package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A refusal to be sent to the client as an {@code OperationOutcome}: the HTTP status, the issue
 * code, a human-readable diagnostic (which must never contain patient data or secrets), extra
 * response headers ({@code WWW-Authenticate}, {@code Retry-After}), and whether the connection
 * must be closed after it (framing errors, smuggling attempts).
 *
 * <p>Every stage that refuses returns one of these; exactly one place in {@code server} turns it
 * into an HTTP response.
 */
public record Refusal(
    int status, IssueType code, String diagnostics, Map<String, String> headers, boolean closeConnection) {

  public Refusal {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 400..599)");
    }
    requireNonNull(code, "code");
    requireNonNull(diagnostics, "diagnostics");
    headers = Map.copyOf(headers);
  }

  public static Refusal of(int status, IssueType code, String diagnostics) {
    return new Refusal(status, code, diagnostics, Map.of(), false);
  }

  /** A 400 for a request whose framing cannot be trusted: the connection is closed after it. */
  public static Refusal badFraming(String diagnostics) {
    return new Refusal(400, IssueType.STRUCTURE, diagnostics, Map.of(), true);
  }

  public Refusal withHeader(String name, String value) {
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new Refusal(status, code, diagnostics, copy, closeConnection);
  }

  public Refusal closing() {
    return new Refusal(status, code, diagnostics, headers, true);
  }
}
