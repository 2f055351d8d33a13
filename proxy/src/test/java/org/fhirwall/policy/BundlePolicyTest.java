package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.junit.jupiter.api.Test;
import org.fhirwall.respond.Refusals;

/** Batches and transactions: a size cap, and every entry decided as if it were sent alone. */
class BundlePolicyTest {

  static final String ROLE = """
      role: ward
      applies-to:
        roles: [ward]
      authentication:
        amr: [otp]
      interactions: [read, search-type, search-compartment, create, batch, transaction]
      resource-types: [Patient, Observation, Condition, Subscription]
      patient-limits:
        - {window: 1h, max: 100}
      search:
        max-count: 20
      """;

  private final PolicyEngine engine = Fhir.engine(ROLE);
  private final Principal user = Fhir.user("ward");

  private static String[] reads(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add("GET Patient/p" + i);
    }
    return out.toArray(String[]::new);
  }

  @Test
  void aBundleOverTheEntryCapIsRefused() {
    assertThat(Fhir.decide(engine, user, Fhir.bundle("batch", reads(100)))).isInstanceOf(Decision.Allow.class);
    Decision.Deny d = Fhir.denied(Fhir.decide(engine, user, Fhir.bundle("batch", reads(101))));
    assertThat(d.rule()).isEqualTo("batch-max-entries");
    assertThat(Refusals.of(d).status()).isEqualTo(403);
    assertThat(Refusals.of(d).diagnostics()).isEqualTo("A batch of 101 entries is more than role ward allows (100)");
    PolicyEngine small = Fhir.engine(ROLE + "batch:\n  max-entries: 3\n");
    assertThat(Fhir.decide(small, user, Fhir.bundle("transaction", reads(3)))).isInstanceOf(Decision.Allow.class);
    assertThat(Fhir.denied(Fhir.decide(small, user, Fhir.bundle("transaction", reads(4)))).rule()).isEqualTo("batch-max-entries");
  }

  @Test
  void oneEntryTheRoleMayNotDoRefusesTheWholeBundleNamingTheEntry() {
    FhirRequest b = Fhir.bundle("batch", "GET Patient/1", "GET Observation?subject=Patient/1", "GET Binary/9", "GET Patient/2");
    Decision.Deny d = Fhir.denied(Fhir.decide(engine, user, b));
    assertThat(d.rule()).isEqualTo("resource-types");
    assertThat(Refusals.of(d).diagnostics())
        .isEqualTo("Bundle entry 2 (GET read Binary) refused: Role ward may not access Binary resources");
  }

  @Test
  void entriesAreHeldToTheSearchRulesOfASearchSentAlone() {
    Decision.Deny bare = Fhir.denied(Fhir.decide(engine, user,
        Fhir.bundle("batch", "GET Patient?name=smith", "GET Patient?_count=100")));
    assertThat(bare.rule()).isEqualTo("search-unselective");
    assertThat(Refusals.of(bare).diagnostics()).startsWith("Bundle entry 1 (GET search-type Patient) refused: ");
    Decision.Deny noPatient = Fhir.denied(Fhir.decide(engine, user, Fhir.bundle("transaction", "GET Observation?code=x")));
    assertThat(noPatient.rule()).isEqualTo("search-patient-criterion");
    Decision.Deny include = Fhir.denied(Fhir.decide(engine, user,
        Fhir.bundle("batch", "GET Observation?subject=Patient/1&_include=Observation:subject")));
    assertThat(include.rule()).isEqualTo("search-include");
    Decision.Deny ors = Fhir.denied(Fhir.decide(engine, user, Fhir.bundle("batch", "GET Patient?_id=1,2,3,4,5,6,7,8,9,10,11")));
    assertThat(ors.rule()).isEqualTo("search-or-values");
  }

  @Test
  void entryInteractionsMustBeListedToo() {
    Decision.Deny d = Fhir.denied(Fhir.decide(engine, user, Fhir.bundle("transaction", "POST Observation", "DELETE Observation/1")));
    assertThat(d.rule()).isEqualTo("interactions");
    assertThat(Refusals.of(d).diagnostics()).startsWith("Bundle entry 1 (DELETE delete Observation) refused: ");
  }

  @Test
  void theSearchEntriesShareTheCountCapAndTheRewriteIsNoted() {
    Decision.Allow a = Fhir.allowed(Fhir.decide(engine, user,
        Fhir.bundle("batch", "GET Patient/1", "GET Observation?subject=Patient/1&_count=500", "GET Condition?patient=1")));
    assertThat(a.request().entries().get(1).request().param("_count")).contains("10");
    assertThat(a.request().entries().get(2).request().param("_count")).contains("10");
    assertThat(a.notes()).containsExactly("entry 1: _count 500 lowered to 10", "entry 2: _count set to 10");
  }

  @Test
  void aBundleOfMoreSearchesThanTheCountCapIsTooCostly() {
    String[] searches = new String[21];
    for (int i = 0; i < searches.length; i++) {
      searches[i] = "GET Observation?subject=Patient/" + i;
    }
    Decision.Deny d = Fhir.denied(Fhir.decide(engine, user, Fhir.bundle("batch", searches)));
    assertThat(d.rule()).isEqualTo("batch-max-count");
    assertThat(d.kind()).isEqualTo(Decision.Kind.TOO_COSTLY);
  }

  @Test
  void aSubscriptionInABundleIsRefusedToUsersEvenInReportOnlyMode() {
    PolicyEngine reportOnly = Fhir.engine(ROLE + "mode: report-only\n");
    FhirRequest b = Fhir.bundle("transaction", "GET Patient/1", "GET Binary/1", "POST Subscription");
    Decision.Deny d = Fhir.denied(Fhir.decide(reportOnly, user, b));
    assertThat(d.rule()).as("the closed channel wins over the report-only finding in entry 1").isEqualTo("closed-subscription");
    assertThat(Refusals.of(d).diagnostics()).startsWith("Bundle entry 2 (POST create Subscription) refused: ");
    Decision.Allow other = Fhir.allowed(Fhir.decide(reportOnly, user, Fhir.bundle("batch", "GET Binary/1")));
    assertThat(other.notes()).contains("report-only: would refuse (resource-types)");
  }
}
