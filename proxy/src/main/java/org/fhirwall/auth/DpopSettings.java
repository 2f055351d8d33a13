package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How DPoP proofs (RFC 9449) are checked: the deployment file's {@code identity.dpop} section.
 *
 * @param proofMaxAge how old a proof's {@code iat} may be (and how far in the future, within the
 *     identity's clock skew); its {@code jti} is remembered this long plus the skew
 * @param nonces whether proofs must carry a nonce fhirwall issued ({@code DPoP-Nonce}, RFC 9449 §9),
 *     which bounds a proof's life by fhirwall's clock instead of the client's
 * @param nonceLifetime how long an issued nonce is accepted
 */
public record DpopSettings(Duration proofMaxAge, boolean nonces, Duration nonceLifetime) {

  public static final DpopSettings DEFAULTS = new DpopSettings(Duration.ofSeconds(60), false, Duration.ofMinutes(5));

  public DpopSettings {
    requireNonNull(proofMaxAge, "proofMaxAge");
    if (proofMaxAge.isNegative() || proofMaxAge.isZero() || proofMaxAge.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException("proofMaxAge: " + proofMaxAge + " (expected: > 0 and <= 10m)");
    }
    requireNonNull(nonceLifetime, "nonceLifetime");
    if (nonceLifetime.compareTo(Duration.ofSeconds(10)) < 0 || nonceLifetime.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("nonceLifetime: " + nonceLifetime + " (expected: 10s..1h)");
    }
  }
}
