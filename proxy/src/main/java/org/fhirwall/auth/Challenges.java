package org.fhirwall.auth;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;

/**
 * The refusals of the auth stage and their {@code WWW-Authenticate} challenges (RFC 6750 §3,
 * RFC 9470 §3). Every quoted value passes through {@link #quotable}, so a description can never
 * break the header (descriptions must not carry token contents anyway).
 */
final class Challenges {
  static final String HEADER = "WWW-Authenticate";
  static final String BARE = "Bearer realm=\"fhirwall\"";
  private static final int MAX_DESCRIPTION = 200;

  private Challenges() {}

  /** No credentials, or another scheme than Bearer: RFC 6750 §3.1 says no error code. */
  static Refusal missing(String diagnostics) {
    return new Refusal(401, IssueType.LOGIN, diagnostics, Map.of(HEADER, BARE), false);
  }

  /** A token that is malformed, unverifiable, not meant for fhirwall or no longer active. */
  static Refusal invalidToken(String description) {
    return invalid(IssueType.LOGIN, description);
  }

  /** A token past its {@code exp}. */
  static Refusal expiredToken(String description) {
    return invalid(IssueType.EXPIRED, description);
  }

  private static Refusal invalid(IssueType code, String description) {
    String d = quotable(description);
    return new Refusal(401, code, "Access token refused: " + d,
        Map.of(HEADER, BARE + ", error=\"invalid_token\", error_description=\"" + d + "\""), false);
  }

  /**
   * A DPoP proof that is missing, malformed, or about another method, URL, token or key; or a
   * DPoP-bound token sent as a bearer token (RFC 9449 §7.1). {@code algs} are the proof
   * algorithms accepted.
   */
  static Refusal invalidDpopProof(String description, List<String> algs) {
    String d = quotable(description);
    return new Refusal(401, IssueType.LOGIN, "DPoP proof refused: " + d,
        Map.of(HEADER, dpop(algs) + ", error=\"invalid_dpop_proof\", error_description=\"" + d + "\""), false);
  }

  /** Server nonces are on and the proof lacks a current one (RFC 9449 §8): the fresh nonce is sent along. */
  static Refusal useDpopNonce(String description, List<String> algs, String nonce) {
    String d = quotable(description);
    return new Refusal(401, IssueType.LOGIN, "DPoP proof refused: " + d,
        Map.of(HEADER, dpop(algs) + ", error=\"use_dpop_nonce\", error_description=\"" + d + "\"",
            "DPoP-Nonce", nonce), false);
  }

  /** A token refused under the DPoP scheme (not bound, or a role needs a bound one): a DPoP challenge. */
  static Refusal invalidDpopToken(String description, List<String> algs) {
    String d = quotable(description);
    return new Refusal(401, IssueType.LOGIN, "Access token refused: " + d,
        Map.of(HEADER, dpop(algs) + ", error=\"invalid_token\", error_description=\"" + d + "\""), false);
  }

  private static String dpop(List<String> algs) {
    return "DPoP algs=\"" + quotable(String.join(" ", algs)) + "\"";
  }

  /** The token could not be checked (no usable key, introspection down): try again later. */
  static Refusal unavailable(String description, Duration retryAfter) {
    long seconds = Math.max(1, retryAfter.toSeconds() + (retryAfter.toNanosPart() > 0 ? 1 : 0));
    return new Refusal(503, IssueType.TRANSIENT, "Access token cannot be checked now: " + quotable(description),
        Map.of("Retry-After", Long.toString(seconds)), false);
  }

  /**
   * {@code s} with every character an RFC 6750 quoted value may not hold (quote, backslash,
   * controls, non-ASCII) replaced by {@code ?}, cut to 200 characters.
   */
  static String quotable(String s) {
    StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_DESCRIPTION));
    for (int i = 0; i < s.length() && out.length() < MAX_DESCRIPTION; i++) {
      char c = s.charAt(i);
      boolean allowed = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
      out.append(allowed ? c : '?');
    }
    return out.toString();
  }
}
