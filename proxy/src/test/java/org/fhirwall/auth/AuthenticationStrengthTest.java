package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Authentication requirements only add up: combining a role's requirement with an operation's or
 * break-glass's is satisfied by a token exactly when the token satisfies both, for every pair of
 * keys ({@code acr}, {@code amr}, {@code amr-any-of}, {@code max-age}) and every token shape.
 */
class AuthenticationStrengthTest {
  static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");

  /** One requirement per key and value shape, as a role or an operation would write it. */
  static final Map<String, AuthenticationStrength> REQUIREMENTS = new LinkedHashMap<>();

  static {
    REQUIREMENTS.put("nothing", AuthenticationStrength.NONE);
    REQUIREMENTS.put("acr [mfa]", new AuthenticationStrength(Set.of("mfa"), Set.of(), Set.of(), null));
    REQUIREMENTS.put("acr [mfa, hw]", new AuthenticationStrength(Set.of("mfa", "hw"), Set.of(), Set.of(), null));
    REQUIREMENTS.put("acr [hw]", new AuthenticationStrength(Set.of("hw"), Set.of(), Set.of(), null));
    REQUIREMENTS.put("amr [otp]", new AuthenticationStrength(Set.of(), Set.of("otp"), Set.of(), null));
    REQUIREMENTS.put("amr [hwk]", new AuthenticationStrength(Set.of(), Set.of("hwk"), Set.of(), null));
    REQUIREMENTS.put("amr-any-of [otp, hwk]", new AuthenticationStrength(Set.of(), Set.of(), Set.of("otp", "hwk"), null));
    REQUIREMENTS.put("amr-any-of [hwk]", new AuthenticationStrength(Set.of(), Set.of(), Set.of("hwk"), null));
    REQUIREMENTS.put("amr-any-of [sms, otp]", new AuthenticationStrength(Set.of(), Set.of(), Set.of("sms", "otp"), null));
    REQUIREMENTS.put("max-age 12h", new AuthenticationStrength(Set.of(), Set.of(), Set.of(), Duration.ofHours(12)));
    REQUIREMENTS.put("max-age 1h", new AuthenticationStrength(Set.of(), Set.of(), Set.of(), Duration.ofHours(1)));
    REQUIREMENTS.put("mixed: acr [mfa] amr-any-of [otp, hwk] 12h",
        new AuthenticationStrength(Set.of("mfa"), Set.of(), Set.of("otp", "hwk"), Duration.ofHours(12)));
  }

  /** Tokens of every relevant shape: acr, amr and login age. */
  static List<Principal> tokens() {
    List<Principal> out = new ArrayList<>();
    for (String acr : new String[] {null, "pwd", "mfa", "hw"}) {
      for (Set<String> amr : List.of(Set.<String>of(), Set.of("pwd"), Set.of("pwd", "otp"), Set.of("pwd", "hwk"),
          Set.of("pwd", "otp", "hwk"), Set.of("pwd", "sms"))) {
        for (Duration age : new Duration[] {null, Duration.ofMinutes(10), Duration.ofHours(2), Duration.ofHours(20)}) {
          out.add(new Principal(Principal.Kind.USER, "https://idp", "u", "u", "web", Set.of("r"), acr, amr,
              age == null ? null : NOW.minus(age), "sid", Set.of(), null, NOW.plusSeconds(300), "jti"));
        }
      }
    }
    return out;
  }

  static boolean satisfies(Principal p, AuthenticationStrength s) {
    return StepUp.check(p, s, NOW, "test").isEmpty();
  }

  @Test
  void everyPairOfRequirementsIsSatisfiedExactlyWhenBothAre() {
    List<Principal> tokens = tokens();
    int checked = 0;
    for (var role : REQUIREMENTS.entrySet()) {
      for (var operation : REQUIREMENTS.entrySet()) {
        AuthenticationStrength both = role.getValue().and(operation.getValue());
        for (Principal p : tokens) {
          boolean expected = satisfies(p, role.getValue()) && satisfies(p, operation.getValue());
          assertThat(satisfies(p, both)).as("%s and %s for acr=%s amr=%s auth_time=%s", role.getKey(), operation.getKey(),
              p.acr(), p.amr(), p.authTime()).isEqualTo(expected);
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(REQUIREMENTS.size() * REQUIREMENTS.size() * tokens.size());
  }

  @Test
  void anOperationsAmrAnyOfIsKeptBesideTheRoles() {
    AuthenticationStrength role = REQUIREMENTS.get("amr-any-of [otp, hwk]");
    AuthenticationStrength everything = REQUIREMENTS.get("amr-any-of [hwk]");
    Principal otpOnly = tokens().stream().filter(p -> p.amr().equals(Set.of("pwd", "otp")) && p.acr() == null
        && p.authTime() != null).findFirst().orElseThrow();
    assertThat(satisfies(otpOnly, role)).isTrue();
    assertThat(satisfies(otpOnly, role.and(everything))).as("an OTP-only token cannot run what asks for a hardware key").isFalse();
  }

  @Test
  void disjointAcrListsAreAConflictNeverNoRequirement() {
    AuthenticationStrength both = REQUIREMENTS.get("acr [mfa]").and(REQUIREMENTS.get("acr [hw]"));
    assertThat(both.conflict()).isPresent();
    assertThat(both.requiresNothing()).isFalse();
    assertThat(tokens()).noneMatch(p -> satisfies(p, both));
    assertThat(REQUIREMENTS.get("acr [mfa, hw]").and(REQUIREMENTS.get("acr [hw]")).conflict()).isEmpty();
  }

  @Test
  void theShorterAgeWinsWhicheverSideItIsOn() {
    AuthenticationStrength a = REQUIREMENTS.get("max-age 12h").and(REQUIREMENTS.get("max-age 1h"));
    AuthenticationStrength b = REQUIREMENTS.get("max-age 1h").and(REQUIREMENTS.get("max-age 12h"));
    assertThat(a.maxAge()).isEqualTo(Duration.ofHours(1)).isEqualTo(b.maxAge());
  }
}
