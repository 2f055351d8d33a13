package org.fhirwall.it.keycloak;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TotpTest {
  /** RFC 6238 appendix B's SHA-1 seed "12345678901234567890", Base32-encoded. */
  private static final String RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

  @Test
  void matchesTheRfc6238TestVectorsCutToSixDigits() {
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(59))).isEqualTo("287082");
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(1111111109))).isEqualTo("081804");
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(1111111111))).isEqualTo("050471");
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(1234567890))).isEqualTo("005924");
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(2000000000))).isEqualTo("279037");
  }

  @Test
  void codesChangeAtThirtySecondBoundaries() {
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(60))).isEqualTo(Totp.at(RFC_SEED, Instant.ofEpochSecond(89)));
    assertThat(Totp.at(RFC_SEED, Instant.ofEpochSecond(59))).isNotEqualTo(Totp.at(RFC_SEED, Instant.ofEpochSecond(60)));
  }

  @Test
  void base32DecodesCaseAndPaddingInsensitively() {
    assertThat(Totp.decodeBase32("gezdgnbvgy3tqojq gezdgnbvgy3tqojq"))
        .isEqualTo("12345678901234567890".getBytes(StandardCharsets.US_ASCII));
    assertThat(Totp.decodeBase32("MZXW6===")).isEqualTo("foo".getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void base32RejectsCharactersOutsideItsAlphabet() {
    assertThatThrownBy(() -> Totp.decodeBase32("ABC1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'1' at 3");
  }
}
