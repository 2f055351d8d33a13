package org.fhirwall.it.keycloak;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * RFC 6238 time-based one-time passwords with HMAC-SHA1, 6 digits and a 30-second step: the
 * {@code fhirwall} realm's OTP policy. Secrets are Base32 (RFC 4648), as authenticator apps take
 * them. Stateless and thread-safe.
 */
public final class Totp {
  private static final int DIGITS = 6;
  private static final long STEP_SECONDS = 30;
  private static final String BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  private Totp() {}

  /** The code for {@code base32Secret} at the current time. */
  public static String now(String base32Secret) {
    return at(base32Secret, Instant.now());
  }

  /** The code for {@code base32Secret} in the 30-second step that contains {@code time}. */
  public static String at(String base32Secret, Instant time) {
    return code(decodeBase32(base32Secret), Math.floorDiv(time.getEpochSecond(), STEP_SECONDS));
  }

  /** RFC 4226 HOTP for one counter value (RFC 6238 uses the time step as the counter). */
  static String code(byte[] key, long counter) {
    byte[] hash;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(key, "HmacSHA1"));
      hash = mac.doFinal(ByteBuffer.allocate(Long.BYTES).putLong(counter).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 unavailable", e);
    }
    int offset = hash[hash.length - 1] & 0x0f;
    int binary = ByteBuffer.wrap(hash, offset, Integer.BYTES).getInt() & 0x7fffffff;
    int code = binary % 1_000_000;
    return String.format(Locale.ROOT, "%0" + DIGITS + "d", code);
  }

  /** Decodes RFC 4648 Base32, ignoring case, spaces and trailing padding. */
  static byte[] decodeBase32(String text) {
    String clean = text.replace(" ", "").replace("=", "").toUpperCase(Locale.ROOT);
    byte[] out = new byte[clean.length() * 5 / 8];
    int buffer = 0;
    int bits = 0;
    int index = 0;
    for (int i = 0; i < clean.length(); i++) {
      int value = BASE32.indexOf(clean.charAt(i));
      if (value < 0) {
        throw new IllegalArgumentException(
            "base32 secret: '" + clean.charAt(i) + "' at " + i + " (expected: A-Z, 2-7)");
      }
      buffer = (buffer << 5) | value;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[index++] = (byte) (buffer >> bits);
      }
    }
    return out;
  }
}
