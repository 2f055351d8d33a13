package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.RolePolicyLoader;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.junit.jupiter.api.Test;
import org.fhirwall.respond.Refusals;

class PolicyEngineTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

  /** The physician role both the loader's and the engine's tests read (config.RolePolicyLoaderTest uses it too). */
  public static final String PHYSICIAN = org.fhirwall.config.RolePolicyLoaderTest.PHYSICIAN;

  private final RolePolicy physician = role(PHYSICIAN);
  private final PolicyEngine engine = new PolicyEngine(new PolicySet(List.of(physician)));

  static RolePolicy role(String yaml) {
    try {
      return new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes()).parse("t.yaml", yaml);
    } catch (ConfigException e) {
      throw new AssertionError(e.getMessage(), e);
    }
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
        request(Interaction.SEARCH_TYPE, "Observation", List.of(new QueryParam("subject", "Patient/1"))), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.role().name()).isEqualTo("physician");
      assertThat(a.account()).isEqualTo("https://idp/realms/h|sub-1");
      assertThat(a.limits()).extracting(w -> w.max()).containsExactly(50, 150);
      assertThat(a.request().param("_count")).contains("50");
      assertThat(a.notes()).as("the rewrite is in the audit record").containsExactly("_count set to 50");
    });
  }

  @Test
  void aPasswordOnlyTokenGetsAStepUpChallenge() {
    Decision d = engine.decide(user(Set.of("physician"), Set.of("pwd"), NOW.minusSeconds(60)),
        request(Interaction.READ, "Patient", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Deny.class, deny -> {
      assertThat(Refusals.of(deny).status()).isEqualTo(401);
      assertThat(Refusals.of(deny).headers().get("WWW-Authenticate")).contains("insufficient_user_authentication");
    });
  }

  @Test
  void anUnknownRoleGetsNothing() {
    Decision d = engine.decide(user(Set.of("janitor"), Set.of("otp"), NOW), request(Interaction.READ, "Patient", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Deny.class, deny -> assertThat(Refusals.of(deny).status()).isEqualTo(403));
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
  void breakGlassNeedsAFreshLoginAndRaisesTheCeilingOfTheSameAccount() {
    FhirRequest read = request(Interaction.READ, "Patient", List.of());
    Decision stale = engine.decide(user(Set.of("physician"), Set.of("otp"), NOW.minus(Duration.ofHours(1))), read, "unconscious patient", 1, NOW);
    assertThat(stale).isInstanceOfSatisfying(Decision.Deny.class, d ->
        assertThat(Refusals.of(d).headers().get("WWW-Authenticate")).contains("insufficient_user_authentication"));
    Decision fresh = engine.decide(user(Set.of("physician"), Set.of("otp"), NOW.minusSeconds(120)), read, "unconscious patient", 1, NOW);
    assertThat(fresh).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.breakGlass()).isTrue();
      assertThat(a.account()).as("one account: break-glass is not a second pool").isEqualTo("https://idp/realms/h|sub-1");
      assertThat(a.limits()).extracting(w -> w.max()).containsExactly(400);
      assertThat(a.tracked()).as("every window of the role is kept up to date").contains(Duration.ofHours(1), Duration.ofHours(24));
    });
  }

  @Test
  void reportOnlyAllowsButRecordsWhatWouldHaveBeenRefused() {
    RolePolicy reportOnly = role(PHYSICIAN.replace("priority: 100", "priority: 100\nmode: report-only"));
    PolicyEngine e = new PolicyEngine(new PolicySet(List.of(reportOnly)));
    Decision d = e.decide(user(Set.of("physician"), Set.of("otp"), NOW), request(Interaction.READ, "Binary", List.of()), null, 1, NOW);
    assertThat(d).isInstanceOfSatisfying(Decision.Allow.class, a -> {
      assertThat(a.reportOnly()).isTrue();
      assertThat(a.notes()).anyMatch(n -> n.contains("would refuse (resource-types)"));
    });
    Decision noMfa = e.decide(user(Set.of("physician"), Set.of("pwd"), NOW), request(Interaction.READ, "Patient", List.of()), null, 1, NOW);
    assertThat(noMfa).as("MFA is never report-only").isInstanceOf(Decision.Deny.class);
  }

  static final String WRITER = PHYSICIAN
      .replace("role: physician", "role: writer")
      .replace("[read, search-type, search-compartment]",
          "[read, create, update, patch, delete, history-instance, history-type, history-system, search-type]")
      .replace("[Patient, Observation]", "[\"*\"]");

  @Test
  void writesAndHistoryAreRefusedUnlessTheRoleListsThem() {
    Principal p = user(Set.of("physician"), Set.of("otp"), NOW);
    List<FhirRequest> writesAndHistory = List.of(
        Fhir.req("POST", "Observation", "{\"resourceType\":\"Observation\"}"),
        Fhir.req("PUT", "Observation/1", "{\"resourceType\":\"Observation\",\"id\":\"1\"}"),
        Fhir.req("PATCH", "Patient/1", "[{\"op\":\"remove\",\"path\":\"/note\"}]", "Content-Type: application/json-patch+json"),
        Fhir.req("DELETE", "Observation/1", ""),
        Fhir.req("DELETE", "Observation?subject=Patient/1", ""),
        Fhir.get("Patient/1/_history"),
        Fhir.get("Patient/_history"),
        Fhir.get("_history"));
    for (FhirRequest r : writesAndHistory) {
      Decision.Deny d = Fhir.denied(engine.decide(p, r, null, 1, NOW));
      assertThat(d.rule()).as(r.describe()).isEqualTo("interactions");
      assertThat(Refusals.of(d).status()).isEqualTo(403);
      assertThat(Refusals.of(d).diagnostics()).contains("Interaction " + r.interaction().code() + " is not allowed for role physician");
    }
    PolicyEngine writer = new PolicyEngine(new PolicySet(List.of(role(WRITER))));
    for (FhirRequest r : writesAndHistory) {
      assertThat(writer.decide(p, r, null, 1, NOW)).as(r.describe()).isInstanceOf(Decision.Allow.class);
    }
  }

  @Test
  void systemHistoryNeedsARoleThatMayAccessEveryType() {
    PolicyEngine narrow = new PolicyEngine(new PolicySet(List.of(role(WRITER.replace("[\"*\"]", "[Patient, Observation]")))));
    Decision.Deny d = Fhir.denied(narrow.decide(user(Set.of("physician"), Set.of("otp"), NOW), Fhir.get("_history"), null, 1, NOW));
    assertThat(d.rule()).isEqualTo("resource-types");
    assertThat(Refusals.of(d).diagnostics()).contains("history-system returns every resource type");
  }

  @Test
  void operationsNeedBothTheInteractionLevelAndTheOperationName() {
    Principal p = user(Set.of("physician"), Set.of("otp"), NOW);
    Decision.Deny noInteraction = Fhir.denied(engine.decide(p, Fhir.get("Patient/1/$everything"), null, 1, NOW));
    assertThat(noInteraction.rule()).as("everything is listed, operation-instance is not").isEqualTo("interactions");

    PolicyEngine instanceOnly = new PolicyEngine(new PolicySet(List.of(role(PHYSICIAN
        .replace("search-compartment]", "search-compartment, operation-instance]")))));
    assertThat(instanceOnly.decide(p, Fhir.get("Patient/1/$everything"), null, 1, NOW)).isInstanceOf(Decision.Allow.class);
    Decision.Deny typeLevel = Fhir.denied(instanceOnly.decide(p, Fhir.get("Patient/$everything"), null, 1, NOW));
    assertThat(typeLevel.rule()).isEqualTo("interactions");
    assertThat(Refusals.of(typeLevel).diagnostics()).contains("operation-type");
    assertThat(Fhir.denied(instanceOnly.decide(p, Fhir.get("$graphql?query=x"), null, 1, NOW)).rule()).isEqualTo("interactions");
    assertThat(Fhir.denied(instanceOnly.decide(p, Fhir.get("Patient/1/$graphql?query=x"), null, 1, NOW)).rule())
        .isEqualTo("operations");

    PolicyEngine wide = new PolicyEngine(new PolicySet(List.of(role(PHYSICIAN.replace("search-compartment]",
        "search-compartment, operation-system, operation-type, operation-instance]")))));
    assertThat(wide.decide(p, Fhir.get("Patient/$everything"), null, 1, NOW)).as("type level once listed").isInstanceOf(Decision.Allow.class);
    Decision.Deny graphql = Fhir.denied(wide.decide(p, Fhir.get("$graphql?query=x"), null, 1, NOW));
    assertThat(graphql.rule()).isEqualTo("operations");
    assertThat(Refusals.of(graphql).diagnostics()).isEqualTo("Operation $graphql is not allowed for role physician");
  }

  @Test
  void exportIsOnlyForAServiceRoleThatListsItAndNamesItsTypes() {
    String export = """
        role: research-export
        applies-to:
          roles: [bulk-export]
          principal: service
        interactions: [operation-system, operation-type, operation-instance]
        resource-types: [Patient, Observation, Group]
        operations: [export]
        patient-limits:
          - {window: 24h, max: 5000}
        """;
    String noExport = export.replace("role: research-export", "role: reporting").replace("[bulk-export]", "[reporting]")
        .replace("operations: [export]", "operations: [everything]");
    PolicyEngine e = Fhir.engine(export, noExport);
    Principal svc = Fhir.service("bulk-export");
    for (String target : List.of("$export?_type=Patient,Observation", "Patient/$export?_type=Observation", "Group/7/$export?_type=Patient")) {
      assertThat(Fhir.decide(e, svc, Fhir.get(target, "Prefer: respond-async"))).as(target).isInstanceOf(Decision.Allow.class);
    }
    Decision.Deny everyType = Fhir.denied(Fhir.decide(e, svc, Fhir.get("$export", "Prefer: respond-async")));
    assertThat(Refusals.of(everyType).diagnostics()).contains("$export without _type exports every resource type");
    assertThat(Fhir.denied(Fhir.decide(e, svc, Fhir.get("$export?_type=Binary", "Prefer: respond-async"))).rule())
        .isEqualTo("resource-types");
    Principal other = Fhir.service("reporting");
    for (String target : List.of("$export?_type=Patient", "Patient/$export?_type=Patient", "Group/7/$export?_type=Patient")) {
      assertThat(Fhir.denied(Fhir.decide(e, other, Fhir.get(target))).rule()).as(target).isEqualTo("operations");
      assertThat(Fhir.denied(Fhir.decide(e, other, Fhir.get(target, "Prefer: respond-async"))).rule()).as(target)
          .isEqualTo("respond-async");
    }
  }

  @Test
  void aForbiddenReadGetsTheSameRefusalWhetherOrNotTheRecordExists() {
    Principal p = user(Set.of("physician"), Set.of("otp"), NOW);
    // The engine has no access to the EPR: the only input is the request, so an existing and a
    // missing id can only be told apart by the id itself, which no rule looks at.
    Decision existing = engine.decide(p, Fhir.get("Binary/present-on-the-epr"), null, 1, NOW);
    Decision missing = engine.decide(p, Fhir.get("Binary/never-stored"), null, 1, NOW);
    assertThat(existing).isEqualTo(missing).isInstanceOf(Decision.Deny.class);
    Decision.Deny d = (Decision.Deny) existing;
    assertThat(Refusals.of(d).status()).isEqualTo(403);
    assertThat(Refusals.of(d).diagnostics()).doesNotContain("present-on-the-epr");
    Decision searchA = engine.decide(p, Fhir.get("Observation?code=1234-5"), null, 1, NOW);
    Decision searchB = engine.decide(p, Fhir.get("Observation?code=9999-9"), null, 1, NOW);
    assertThat(searchA).isEqualTo(searchB).isInstanceOf(Decision.Deny.class);
  }
}
