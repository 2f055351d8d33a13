package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.junit.jupiter.api.Test;

class PolicyEngineTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

  private final RolePolicy physician = role(RolePolicyLoaderTest.PHYSICIAN);
  private final PolicyEngine engine = new PolicyEngine(new PolicySet(List.of(physician)));

  static RolePolicy role(String yaml) {
    Problems problems = new Problems();
    RolePolicy r = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes()).parse("t.yaml", yaml, problems);
    assertThat(problems.all()).isEmpty();
    return r;
  }

  static Principal user(Set<String> roles, Set<String> amr, Instant authTime) {
    return new Principal(Principal.Kind.USER, "https://idp/realms/h", "sub-1", "alice", "fhirwall-web", roles, "1", amr,
        authTime, "sid-1", Set.of("openid"), null, NOW.plusSeconds(300), "jti-1");
  }

  static FhirRequest request(Interaction i, String type, List<QueryParam> params) {
    return new FhirRequest(i, "GET", type, i == Interaction.READ ? "1" : null, null, null, null, false, params, List.of(),
        Format.JSON, false, false, null, List.of(), List.of(), FhirRequest.Body.EMPTY);
  }

  @Test
  void aPhysicianWithMfaMaySearchAndIsChargedToTheRoleWindows() {
    Decision d = engine.decide(user(Set.of("physician"), Set.of("pwd", "otp"), NOW.minusSeconds(60)),
        request(Interaction.SEARCH_TYPE, "Observation", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.role().name()).isEqualTo("physician");
      assertThat(a.account()).isEqualTo("https://idp/realms/h|sub-1");
      assertThat(a.windows()).extracting(w -> w.max()).containsExactly(40, 150);
      assertThat(a.request().param("_count")).contains("50");
    });
  }

  @Test
  void aPasswordOnlyTokenGetsAStepUpChallenge() {
    Decision d = engine.decide(user(Set.of("physician"), Set.of("pwd"), NOW.minusSeconds(60)),
        request(Interaction.READ, "Patient", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Deny.class, deny -> {
      assertThat(deny.refusal().status()).isEqualTo(401);
      assertThat(deny.refusal().headers().get("WWW-Authenticate")).contains("insufficient_user_authentication");
    });
  }

  @Test
  void anUnknownRoleGetsNothing() {
    Decision d = engine.decide(user(Set.of("janitor"), Set.of("otp"), NOW), request(Interaction.READ, "Patient", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Deny.class, deny -> assertThat(deny.refusal().status()).isEqualTo(403));
  }

  @Test
  void aServiceAccountNeverMatchesAUserRole() {
    Principal svc = new Principal(Principal.Kind.SERVICE, "https://idp/realms/h", "svc", null, "billing", Set.of("physician"),
        null, Set.of(), null, null, Set.of(), null, NOW.plusSeconds(60), "jti");
    assertThat(engine.decide(svc, request(Interaction.READ, "Patient", List.of()), null, 1, NOW)).isInstanceOf(Decision.Deny.class);
  }

  @Test
  void typesInteractionsAndOperationsNotGrantedAreForbidden() {
    Principal p = user(Set.of("physician"), Set.of("otp"), NOW);
    assertThat(engine.decide(p, request(Interaction.READ, "Binary", List.of()), null, 1, NOW)).isInstanceOf(Decision.Deny.class);
    assertThat(engine.decide(p, request(Interaction.HISTORY_TYPE, "Patient", List.of()), null, 1, NOW)).isInstanceOf(Decision.Deny.class);
    FhirRequest export = new FhirRequest(Interaction.OPERATION_SYSTEM, "GET", null, null, null, null, "export", false, List.of(),
        List.of(), Format.JSON, false, false, null, List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertThat(engine.decide(p, export, null, 1, NOW)).isInstanceOf(Decision.Deny.class);
  }

  @Test
  void aLargeCountIsLoweredAndNoted() {
    Decision d = engine.decide(user(Set.of("physician"), Set.of("otp"), NOW), request(Interaction.SEARCH_TYPE, "Patient",
        List.of(new QueryParam("name", "smith"), new QueryParam("_count", "100000"))), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.request().param("_count")).contains("50");
      assertThat(a.notes()).containsExactly("_count 100000 lowered to 50");
    });
  }

  @Test
  void pagingBeyondTheRoleMaximumIsRefused() {
    FhirRequest page = new FhirRequest(Interaction.PAGE, "GET", "Patient", null, null, null, null, false, List.of(), List.of(),
        Format.JSON, false, false, "tok", List.of(), List.of(), FhirRequest.Body.EMPTY);
    Principal p = user(Set.of("physician"), Set.of("otp"), NOW);
    assertThat(engine.decide(p, page, null, 10, NOW)).isInstanceOf(Decision.Allow.class);
    assertThat(engine.decide(p, page, null, 11, NOW)).isInstanceOf(Decision.Deny.class);
  }

  @Test
  void breakGlassNeedsAFreshLoginAndChargesItsOwnWindows() {
    FhirRequest read = request(Interaction.READ, "Patient", List.of());
    Decision stale = engine.decide(user(Set.of("physician"), Set.of("otp"), NOW.minus(Duration.ofHours(1))), read, "unconscious patient", 1, NOW);
    assertThat(stale).isInstanceOfSatisfying(Decision.Deny.class, d ->
        assertThat(d.refusal().headers().get("WWW-Authenticate")).contains("insufficient_user_authentication"));
    Decision fresh = engine.decide(user(Set.of("physician"), Set.of("otp"), NOW.minusSeconds(120)), read, "unconscious patient", 1, NOW);
    assertThat(fresh).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.breakGlass()).isTrue();
      assertThat(a.account()).endsWith("#break-glass");
      assertThat(a.windows()).extracting(w -> w.max()).containsExactly(400);
    });
  }

  @Test
  void reportOnlyAllowsButRecordsWhatWouldHaveBeenRefused() {
    RolePolicy reportOnly = role(RolePolicyLoaderTest.PHYSICIAN.replace("priority: 100", "priority: 100\nmode: report-only"));
    PolicyEngine e = new PolicyEngine(new PolicySet(List.of(reportOnly)));
    Decision d = e.decide(user(Set.of("physician"), Set.of("otp"), NOW), request(Interaction.READ, "Binary", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.reportOnly()).isTrue();
      assertThat(a.wouldRefuse()).isNotNull();
      assertThat(a.notes()).anyMatch(n -> n.contains("would refuse (resource-types)"));
    });
    Decision noMfa = e.decide(user(Set.of("physician"), Set.of("pwd"), NOW), request(Interaction.READ, "Patient", List.of()), null, 1, NOW);
    assertThat(noMfa).as("MFA is never report-only").isInstanceOf(Decision.Deny.class);
  }
}
