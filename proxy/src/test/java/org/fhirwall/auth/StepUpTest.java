package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class StepUpTest {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  private static final String WHY = "Role clinician requires a stronger or more recent authentication";
  private static final String PREFIX =
      "Bearer realm=\"fhirwall\", error=\"insufficient_user_authentication\", error_description=\"" + WHY + "\"";

  private static Principal user(@Nullable String acr, Set<String> amr, @Nullable Instant authTime) {
    return new Principal(Principal.Kind.USER, "https://idp/realms/h", "sub-1", "alice", "epr-web", Set.of("physician"),
        acr, amr, authTime, "sid-1", Set.of(), null, NOW.plusSeconds(300), "jti-1");
  }

  private static AuthenticationStrength strength(Set<String> acr, Set<String> required, Set<String> any,
      @Nullable Duration maxAge) {
    return new AuthenticationStrength(acr, required, any, maxAge);
  }

  private static Refusal refused(Optional<StepUp.Shortfall> shortfall) {
    assertThat(shortfall).isPresent();
    Refusal r = shortfall.get().refusal();
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.code()).isEqualTo(IssueType.LOGIN);
    return r;
  }

  private static String header(Refusal r) {
    return r.headers().get("WWW-Authenticate");
  }

  @Test
  void enoughEvidencePasses() {
    Principal p = user("gold", Set.of("pwd", "otp"), NOW.minusSeconds(600));
    assertThat(StepUp.check(p, strength(Set.of("gold", "silver"), Set.of("otp"), Set.of("otp", "hwk"),
        Duration.ofHours(1)), NOW, WHY)).isEmpty();
    assertThat(StepUp.check(p, AuthenticationStrength.NONE, NOW, WHY)).isEmpty();
  }

  @Test
  void aWrongAcrNamesTheAcceptedValues() {
    Refusal r = refused(StepUp.check(user("1", Set.of("pwd", "otp"), NOW), strength(Set.of("gold", "silver"), Set.of(), Set.of(), null),
        NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX + ", acr_values=\"gold silver\"");
    assertThat(r.diagnostics()).startsWith(WHY).contains("acr '1'");
  }

  @Test
  void aMissingAcrFailsAnAcrRequirement() {
    Refusal r = refused(StepUp.check(user(null, Set.of("otp"), NOW), strength(Set.of("gold"), Set.of(), Set.of(), null), NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX + ", acr_values=\"gold\"");
  }

  @Test
  void aPasswordOnlyLoginLacksTheRequiredAmr() {
    Refusal r = refused(StepUp.check(user("1", Set.of("pwd"), NOW), strength(Set.of(), Set.of("otp"), Set.of(), null), NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX);
    assertThat(r.diagnostics()).contains("amr lacks [otp]");
  }

  @Test
  void everyRequiredAmrMustBePresent() {
    Refusal r = refused(StepUp.check(user("1", Set.of("pwd", "otp"), NOW), strength(Set.of(), Set.of("otp", "hwk"), Set.of(), null),
        NOW, WHY));
    assertThat(r.diagnostics()).contains("amr lacks [hwk]");
  }

  @Test
  void noneOfTheAlternativeAmrsIsAShortfall() {
    Refusal r = refused(StepUp.check(user("1", Set.of("pwd", "sms"), NOW), strength(Set.of(), Set.of(), Set.of("otp", "hwk"), null),
        NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX);
    assertThat(r.diagnostics()).contains("amr has none of [hwk, otp]");
    assertThat(StepUp.check(user("1", Set.of("pwd", "hwk"), NOW), strength(Set.of(), Set.of(), Set.of("otp", "hwk"), null), NOW, WHY))
        .isEmpty();
  }

  @Test
  void aLoginOlderThanMaxAgeAsksForMaxAge() {
    Refusal r = refused(StepUp.check(user("1", Set.of("otp"), NOW.minus(Duration.ofHours(13))),
        strength(Set.of(), Set.of("otp"), Set.of(), Duration.ofHours(12)), NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX + ", max_age=43200");
  }

  @Test
  void aLoginExactlyMaxAgeOldStillPasses() {
    assertThat(StepUp.check(user("1", Set.of("otp"), NOW.minus(Duration.ofHours(12))),
        strength(Set.of(), Set.of("otp"), Set.of(), Duration.ofHours(12)), NOW, WHY)).isEmpty();
  }

  @Test
  void aMissingAuthTimeFailsAMaxAgeClosed() {
    Refusal r = refused(StepUp.check(user("1", Set.of("otp"), null), strength(Set.of(), Set.of(), Set.of(), Duration.ofMinutes(5)),
        NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX + ", max_age=300");
    assertThat(r.diagnostics()).contains("auth_time missing");
  }

  @Test
  void severalShortfallsGiveAcrValuesAndMaxAgeTogether() {
    Refusal r = refused(StepUp.check(user("0", Set.of("pwd"), NOW.minus(Duration.ofDays(2))),
        strength(Set.of("2"), Set.of("otp"), Set.of(), Duration.ofHours(1)), NOW, WHY));
    assertThat(header(r)).isEqualTo(PREFIX + ", acr_values=\"2\", max_age=3600");
  }

  @Test
  void theDescriptionIsMadeSafeForTheHeader() {
    Refusal r = refused(StepUp.check(user("1", Set.of(), NOW), strength(Set.of(), Set.of("otp"), Set.of(), null), NOW,
        "say \"hi\"\r\n"));
    assertThat(header(r)).contains("error_description=\"say ?hi???\"");
  }

  @Test
  void aServicePassesOnlyWhenNothingIsRequired() {
    Principal svc = new Principal(Principal.Kind.SERVICE, "https://idp/realms/h", "svc", null, "billing", Set.of("export"), null,
        Set.of(), null, null, Set.of(), null, NOW.plusSeconds(300), "jti-2");
    assertThat(StepUp.check(svc, AuthenticationStrength.NONE, NOW, WHY)).isEmpty();
    Optional<Refusal> r = StepUp.check(svc, strength(Set.of(), Set.of("otp"), Set.of(), null), NOW, WHY)
        .map(StepUp.Shortfall::refusal);
    assertThat(r).isPresent();
    assertThat(r.get().status()).isEqualTo(403);
    assertThat(r.get().code()).isEqualTo(IssueType.FORBIDDEN);
    assertThat(r.get().headers()).doesNotContainKey("WWW-Authenticate");
  }
}
