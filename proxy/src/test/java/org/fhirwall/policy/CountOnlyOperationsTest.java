package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.QueryParam;
import org.junit.jupiter.api.Test;

/**
 * A count of an operation's answer that names its patient ({@code Patient/1/$everything?_count=0}): HAPI FHIR's JPA
 * server answers {@code _count=0} there with the number of resources in the whole server (2,365 where the patient has
 * 8; {@code EverythingCountJpaIT}), and {@code _summary=count} with the patient's own. fhirwall forwards such a count as
 * {@code _summary=count} and without {@code _count}.
 */
class CountOnlyOperationsTest {
  private final PolicyEngine engine = Fhir.engine(ClosedChannelsTest.EVERYTHING);
  private final Principal user = Fhir.user("superuser");

  private FhirRequest forwarded(String target) {
    return Fhir.allowed(Fhir.decide(engine, user, Fhir.get(target))).request();
  }

  @Test
  void aZeroCountOnAnOperationIsForwardedAsASummaryCount() {
    for (String zero : new String[] {"0", "00", "-0", "+0"}) {
      FhirRequest r = forwarded("Patient/1/$everything?_count=" + zero + "&_type=Observation");
      assertThat(r.params()).as("_count=" + zero).extracting(QueryParam::name).doesNotContain("_count");
      assertThat(r.param("_summary")).as("_count=" + zero).contains("count");
      assertThat(r.param("_type")).contains("Observation");
    }
    FhirRequest both = forwarded("Patient/1/$everything?_count=0&_summary=count");
    assertThat(both.params()).extracting(QueryParam::name).containsExactly("_summary");
  }

  @Test
  void anOperationsPagesAndItsSummaryCountAreLeftAlone() {
    FhirRequest page = Fhir.get("Patient/1/$everything?_count=5");
    assertThat(forwarded("Patient/1/$everything?_count=5").params()).isEqualTo(page.params());
    FhirRequest count = Fhir.get("Patient/1/$everything?_summary=count");
    assertThat(forwarded("Patient/1/$everything?_summary=count").params()).isEqualTo(count.params());
  }

  @Test
  void theSameHoldsInABatchEntry() {
    FhirRequest batch = Fhir.allowed(Fhir.decide(engine, user,
        Fhir.bundle("batch", "GET Patient/1/$everything?_count=0", "GET Patient/1"))).request();
    FhirRequest entry = batch.entries().get(0).request();
    assertThat(entry.params()).extracting(QueryParam::name).doesNotContain("_count");
    assertThat(entry.param("_summary")).contains("count");
  }
}
