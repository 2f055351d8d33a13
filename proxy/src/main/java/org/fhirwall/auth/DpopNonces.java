package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Server-issued DPoP nonces (RFC 9449 §8), stateless: a nonce is the time slice it was issued in
 * and an HMAC of it under a secret every replica shares, so any replica accepts any replica's
 * nonce while it is young, and nobody else can make one. Thread-safe.
 */
final class DpopNonces {
  private static final int MAC_BYTES = 16;
  private final byte[] secret;
  private final long sliceSeconds;
  private final long slices;

  /**
   * @param secret the shared HMAC key (at least 16 bytes)
   * @param lifetime how long a nonce is accepted: it is valid in the slice it was issued in and
   *     the following ones, a tenth of the lifetime each
   */
  DpopNonces(byte[] secret, Duration lifetime) {
    requireNonNull(secret, "secret");
    if (secret.length < 16) {
      throw new IllegalArgumentException("secret: " + secret.length + " bytes (expected: >= 16)");
    }
    this.secret = secret.clone();
    this.sliceSeconds = Math.max(1, lifetime.toSeconds() / 10);
    this.slices = Math.max(1, lifetime.toSeconds() / sliceSeconds);
  }

  /** A nonce for now. */
  String issue(Instant now) {
    long slice = now.getEpochSecond() / sliceSeconds;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(token(slice));
  }

  /** Whether {@code nonce} is one of ours, issued within the lifetime before {@code now}. */
  boolean valid(String nonce, Instant now) {
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(nonce);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (raw.length != 8 + MAC_BYTES) {
      return false;
    }
    long slice = ByteBuffer.wrap(raw, 0, 8).getLong();
    long current = now.getEpochSecond() / sliceSeconds;
    if (slice > current || current - slice >= slices) {
      return false;
    }
    return MessageDigest.isEqual(raw, token(slice));
  }

  private byte[] token(long slice) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      byte[] s = ByteBuffer.allocate(8).putLong(slice).array();
      byte[] tag = mac.doFinal(s);
      return ByteBuffer.allocate(8 + MAC_BYTES).put(s).put(tag, 0, MAC_BYTES).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 missing from the JDK", e);
    }
  }
}
