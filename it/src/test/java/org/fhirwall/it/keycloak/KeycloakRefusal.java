package org.fhirwall.it.keycloak;

import static java.util.Objects.requireNonNull;

/**
 * Keycloak did not issue what was asked: a token endpoint error (RFC 6749 {@code error} code and
 * HTTP status), or a login page that did not end in a redirect with a code. {@link #error()} is the
 * OAuth error code, or for browser logins one of {@link #OTP_REQUIRED} and {@link #LOGIN_FAILED}.
 */
public final class KeycloakRefusal extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The browser login reached the OTP form but the caller gave no TOTP secret. */
  public static final String OTP_REQUIRED = "otp_required";
  /** The browser login did not end in a redirect to the client (bad credentials, disabled user, ...). */
  public static final String LOGIN_FAILED = "login_failed";

  private final int status;
  private final String error;
  private final String body;

  KeycloakRefusal(int status, String error, String body) {
    super("Keycloak refused: HTTP " + status + " " + error + " " + abbreviate(body));
    this.status = status;
    this.error = requireNonNull(error, "error");
    this.body = requireNonNull(body, "body");
  }

  /** HTTP status of the refusing response. */
  public int status() {
    return status;
  }

  /** OAuth error code, or {@link #OTP_REQUIRED} / {@link #LOGIN_FAILED}. */
  public String error() {
    return error;
  }

  /** The response body (JSON error, or the HTML page). */
  public String body() {
    return body;
  }

  private static String abbreviate(String body) {
    return body.length() <= 300 ? body : body.substring(0, 300) + "...";
  }
}
