package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import java.util.List;
import org.fhirwall.auth.Principal;
import org.fhirwall.config.RolePolicyLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shipped role policies do what their comments promise, and the demo's scenes get what the demo needs. */
class ShippedRolesBehaviourTest {
  static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies"));
  private static PolicyEngine demo;
  private static PolicyEngine roles;

  @BeforeAll
  static void load() throws Exception {
    RolePolicyLoader loader = new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes());
    demo = new PolicyEngine(loader.loadDirectory(POLICIES.resolve("demo")));
    roles = new PolicyEngine(loader.loadDirectory(POLICIES.resolve("roles")));
  }

  private static Decision decide(PolicyEngine e, Principal p, String target, String... headers) {
    return Fhir.decide(e, p, Fhir.get(target, headers));
  }

  @Test
  void theDemoClinicianWorkdayIsAllowed() {
    Principal clinician = Fhir.user("physician");
    for (String t : List.of("Patient/p1", "Observation?subject=Patient/p1&_count=20", "Condition?patient=Patient/p1",
        "MedicationRequest?patient=Patient/p1", "Patient/p1/$everything")) {
      assertThat(decide(demo, clinician, t)).as(t).isInstanceOf(Decision.Allow.class);
    }
  }

  @Test
  void everyShippedRoleListingCapabilitiesGetsTheCapabilityStatementWithAToken() {
    // Adversarial sweep: GET /metadata with a token (FHIR client libraries send it on their conformance check)
    // was allowed, then refused 403 once the EPR answered, because no role lists CapabilityStatement in
    // resource-types ("may not access CapabilityStatement resources (returned by the EPR)").
    for (String role : List.of("physician", "nurse", "emergency", "pharmacist", "clerical", "billing")) {
      PolicyEngine e = role.equals("physician") ? demo : roles;
      Decision.Allow a = Fhir.allowed(decide(e, Fhir.user(role), "metadata"));
      assertThat(PolicyEngine.afterInspection(a, "CapabilityStatement")).as(role).isEmpty();
    }
    Decision.Allow terminology = Fhir.allowed(decide(roles, Fhir.user("physician"), "metadata?mode=terminology"));
    assertThat(PolicyEngine.afterInspection(terminology, "TerminologyCapabilities")).isEmpty();
  }

  @Test
  void aCapabilityStatementIsStillRefusedWhereItIsNotTheAnswerToMetadata() {
    Decision.Allow read = Fhir.allowed(decide(demo, Fhir.user("physician"), "Patient/p1"));
    assertThat(PolicyEngine.afterInspection(read, "CapabilityStatement")).get()
        .satisfies(d -> assertThat(d.rule()).isEqualTo("resource-types"));
  }

  @Test
  void theDemoAttackersBarePatientSearchIsAllowedSoThePatientLimitStopsIt() {
    Principal attacker = Fhir.user("physician");
    Decision.Allow a = Fhir.allowed(decide(demo, attacker, "Patient?_count=20"));
    assertThat(a.notes()).containsExactly("unselective search allowed under the caps (search.unselective: cap)");
    assertThat(Fhir.allowed(decide(demo, attacker, "Patient?_count=500")).request().param("_count")).contains("50");
    assertThat(Fhir.denied(decide(demo, attacker, "Observation?_count=50")).rule()).isEqualTo("search-patient-criterion");
  }

  @Test
  void physiciansFindPatientsByDemographicsAndSearchClinicalDataPerPatient() {
    Principal p = Fhir.user("physician");
    assertThat(Fhir.denied(decide(roles, p, "Patient?_count=50")).rule()).isEqualTo("search-unselective");
    Fhir.allowed(decide(roles, p, "Patient?family=martin&birthdate=1970-01-01"));
    Fhir.allowed(decide(roles, p, "Observation?subject=Patient/1&code=8867-4&_include=Observation:subject"));
    Fhir.allowed(decide(roles, p, "Patient/1/Condition"));
    assertThat(Fhir.denied(decide(roles, p, "Observation?code=8867-4")).rule()).isEqualTo("search-patient-criterion");
    assertThat(Fhir.denied(decide(roles, p, "Patient?_id=1,2,3,4,5,6,7,8,9,10,11")).rule()).isEqualTo("search-or-values");
    assertThat(Fhir.denied(decide(roles, p, "Observation?subject:Patient.name=x")).rule()).isEqualTo("search-chains");
    assertThat(Fhir.denied(decide(roles, p, "Patient?_id=1&_revinclude=Provenance:target")).rule()).isEqualTo("search-include");
  }

  @Test
  void nursesAndEmergencyNeedAPatientCriterionToo() {
    for (String role : List.of("nurse", "emergency")) {
      Principal p = Fhir.user(role);
      assertThat(Fhir.denied(decide(roles, p, "Observation?category=vital-signs")).rule()).as(role)
          .isEqualTo("search-patient-criterion");
      Fhir.allowed(decide(roles, p, "Observation?subject=Patient/1&category=vital-signs&_include=Observation:subject"));
    }
  }

  @Test
  void clericalStaffSearchPatientDemographicsOnly() {
    Principal p = Fhir.user("clerical");
    Fhir.allowed(decide(roles, p, "Patient?family=martin&given=anne&birthdate=1970-01-01"));
    Fhir.allowed(decide(roles, p, "Patient?address-postalcode=75001&name=martin"));
    Fhir.allowed(decide(roles, p, "Appointment?patient=Patient/1&date=ge2024-11-25"));
    assertThat(Fhir.denied(decide(roles, p, "Patient?general-practitioner=Practitioner/1")).rule()).isEqualTo("search-parameters");
    assertThat(Fhir.denied(decide(roles, p, "Patient?name:contains=ma")).rule()).isEqualTo("search-modifiers");
    assertThat(Fhir.denied(decide(roles, p, "Patient?_id=1,2,3,4,5,6")).rule()).isEqualTo("search-or-values");
    assertThat(Fhir.denied(decide(roles, p, "Observation?subject=Patient/1")).rule()).isEqualTo("resource-types");
  }

  @Test
  void onlyTheResearchServiceAccountExports() {
    Principal svc = Fhir.service("bulk-export");
    Fhir.allowed(decide(roles, svc, "$export?_type=Patient,Observation", "Prefer: respond-async"));
    Fhir.allowed(decide(roles, svc, "Group/cohort-1/$export?_type=Patient,Condition", "Prefer: respond-async"));
    assertThat(Fhir.denied(decide(roles, svc, "$export", "Prefer: respond-async")).rule()).isEqualTo("resource-types");
    assertThat(Fhir.denied(decide(roles, Fhir.user("bulk-export"), "$export?_type=Patient")).rule()).isEqualTo("no-role-policy");
    assertThat(Fhir.denied(decide(roles, Fhir.user("physician"), "$export?_type=Patient", "Prefer: respond-async")).rule())
        .isEqualTo("closed-async");
  }

  @Test
  void aCancelOfAnExportIsDecidedLikeAPollOfItForEveryShippedRole() {
    for (Principal p : List.of(Fhir.service("bulk-export"), Fhir.user("bulk-export"), Fhir.user("physician"),
        Fhir.user("nurse"), Fhir.user("emergency"), Fhir.user("pharmacist"), Fhir.user("clerical"), Fhir.user("billing"))) {
      for (PolicyEngine e : List.of(roles, demo)) {
        Decision poll = Fhir.decide(e, p, Fhir.get("$export-poll-status?_jobId=job-1"));
        Decision cancel = Fhir.decide(e, p, Fhir.req("DELETE", "$export-poll-status?_jobId=job-1", ""));
        String who = p.kind() + " " + p.roles();
        if (poll instanceof Decision.Deny d) {
          assertThat(Fhir.denied(cancel)).as(who).satisfies(c -> {
            assertThat(c.rule()).isEqualTo(d.rule());
            assertThat(c.kind()).isEqualTo(d.kind());
          });
        } else {
          assertThat(cancel).as(who).isInstanceOf(Decision.Allow.class);
        }
      }
    }
    Fhir.allowed(Fhir.decide(roles, Fhir.service("bulk-export"), Fhir.req("DELETE", "$export-poll-status?_jobId=job-1", "")));
  }

  @Test
  void everyShippedUserRoleHasRateAndEnumerationFigures() {
    for (RolePolicy r : roles.policies().roles()) {
      assertThat(r.rate().requestsPerSecond()).as(r.name()).isPositive();
      assertThat(r.enumeration().maxNotFound()).as(r.name()).isPositive();
      if (r.principalKind() == Principal.Kind.USER) {
        assertThat(r.search().unselective()).as(r.name()).isEqualTo(SearchRules.Unselective.REFUSE);
        assertThat(r.search().requirePatientCriterion()).as(r.name()).isTrue();
      }
    }
  }

  @Test
  void clinicalRolesRefuseABearerTokenWithADpopChallengeAndTheOthersDoNot() throws Exception {
    PolicyEngine e = roles;
    for (String role : List.of("physician", "nurse", "emergency", "pharmacist")) {
      Decision d = decide(e, Fhir.bearerUser(role), "Patient/1");
      assertThat(d).as(role).isInstanceOfSatisfying(Decision.Deny.class, deny -> {
        assertThat(deny.rule()).isEqualTo("sender-constrained");
        org.fhirwall.fhir.Refusal r = org.fhirwall.respond.Refusals.of(deny);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers().get("WWW-Authenticate")).startsWith("DPoP ").contains("error=\"invalid_token\"");
      });
      assertThat(decide(e, Fhir.user(role), "Patient/1")).as(role).isInstanceOf(Decision.Allow.class);
    }
    assertThat(decide(e, Fhir.bearerUser("clerical"), "Patient/1")).isInstanceOf(Decision.Allow.class);
  }
}
