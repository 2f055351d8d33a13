package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Paging through fhirwall, against the demo's EPR ({@link PagingIT}) and HAPI's JPA server ({@link PagingJpaIT}),
 * whose paging links differ ({@code _getpages} for searches and {@code $everything}, {@code _offset} for history):
 * every link a client gets is fhirwall's, following them reaches every record exactly once, included resources keep
 * their search mode, and a total is shown only with the last page. Role it-pager (max-count 50) as stated here.
 */
@ExtendWith(LeakWatch.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PagingCases {
  static final int PAGE = 50;
  ItEnvironment it;

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String token() {
    return it.token("pager-" + UUID.randomUUID(), "pager");
  }

  /** Follows fhirwall's next links from {@code first}; returns every page, checking each one's links. */
  List<Bundle> pages(String first, String token) throws Exception {
    List<Bundle> pages = new ArrayList<>();
    String next = first;
    while (next != null) {
      HttpResponse<String> r = it.get(next, token);
      assertThat(r.statusCode()).as(next + ": " + r.body()).isEqualTo(200);
      Bundle page = (Bundle) ItEnvironment.FHIR.newJsonParser().parseResource(r.body());
      for (Bundle.BundleLinkComponent l : page.getLink()) {
        assertThat(l.getUrl()).as(l.getRelation()).startsWith(it.proxyBase()).doesNotContain(it.eprBase());
      }
      for (Bundle.BundleEntryComponent e : page.getEntry()) {
        if (e.hasFullUrl()) {
          assertThat(e.getFullUrl()).startsWith(it.proxyBase());
        }
      }
      pages.add(page);
      Bundle.BundleLinkComponent n = page.getLink(Bundle.LINK_NEXT);
      next = n == null ? null : n.getUrl();
      if (next != null) {
        assertThat(next).contains("_fwpage=").doesNotContain("_getpages").doesNotContain("_offset");
      }
      assertThat(pages.size()).as("pages of " + first).isLessThan(1000);
    }
    return pages;
  }

  @Test
  void aSearchPagesThroughFhirwallsOwnLinksToTheEnd() throws Exception {
    List<Bundle> pages = pages("Patient?_count=" + PAGE, token());
    List<String> ids = new ArrayList<>();
    pages.forEach(p -> p.getEntry().forEach(e -> ids.add(e.getResource().getIdElement().getIdPart())));
    assertThat(new HashSet<>(ids)).as("every patient once").hasSize(it.patientCount()).hasSize(ids.size());
    // a full last page links on to fhirwall's own empty page: an EPR's last page tells nothing either way
    assertThat(pages.size()).isIn((it.patientCount() + PAGE - 1) / PAGE, it.patientCount() / PAGE + 1);
    if (it.patientCount() % PAGE == 0) {
      assertThat(pages.get(pages.size() - 1).getEntry()).as("the page past a full last page").isEmpty();
    }
  }

  @Test
  void aTotalIsShownOnlyWithTheLastPage() throws Exception {
    List<Bundle> pages = pages("Patient?_count=" + PAGE + "&_total=accurate", token());
    assertThat(pages.size()).isGreaterThan(1);
    for (Bundle p : pages.subList(0, pages.size() - 1)) {
      assertThat(p.hasTotal()).as("a total before the last page").isFalse();
    }
    Bundle last = pages.get(pages.size() - 1);
    if (last.hasTotal()) {
      assertThat(last.getTotal()).isEqualTo(it.patientCount());
    }
  }

  @Test
  void includedResourcesKeepTheirSearchModeAndArePagedWithTheirMatches() throws Exception {
    List<Bundle> pages = pages("Observation?_include=Observation:subject&_count=20", token());
    int matches = 0;
    Set<String> included = new HashSet<>();
    for (Bundle p : pages) {
      for (Bundle.BundleEntryComponent e : p.getEntry()) {
        if (e.getSearch().getMode() == Bundle.SearchEntryMode.MATCH) {
          assertThat(e.getResource().fhirType()).isEqualTo("Observation");
          matches++;
        } else {
          assertThat(e.getSearch().getMode()).isEqualTo(Bundle.SearchEntryMode.INCLUDE);
          assertThat(e.getResource().fhirType()).isEqualTo("Patient");
          included.add(e.getResource().getIdElement().getIdPart());
        }
      }
    }
    assertThat(matches).isPositive();
    assertThat(included).isNotEmpty();
  }

  @Test
  void historyPagesThroughToTheEnd() throws Exception {
    List<Bundle> pages = pages("Patient/_history?_count=" + PAGE, token());
    Set<String> versions = new HashSet<>();
    // a deletion's entry has no resource (a suite sharing the JPA server may delete what it wrote)
    pages.forEach(p -> p.getEntry().stream().filter(e -> e.hasResource())
        .forEach(e -> versions.add(e.getResource().getIdElement().toUnqualified().getValue())));
    assertThat(versions.size()).as("patient versions").isGreaterThanOrEqualTo(it.patientCount());
    assertThat(pages.size()).isGreaterThan(1);
  }

  @Test
  void everythingForOnePatientPagesThroughToTheEnd() throws Exception {
    String patient = it.samplePatientIds(1, 31).get(0);
    List<Bundle> pages = pages("Patient/" + patient + "/$everything?_count=2", token());
    Set<String> resources = new HashSet<>();
    pages.forEach(p -> p.getEntry().forEach(e -> resources.add(e.getResource().getIdElement().toUnqualifiedVersionless()
        .getValue())));
    assertThat(resources).contains("Patient/" + patient);
    assertThat(resources.size()).as("the patient and their records").isGreaterThan(2);
    Set<String> patients = new HashSet<>();
    for (Bundle p : pages) {
      DisclosedPatients.collect(p, patients);
    }
    assertThat(patients).contains("Patient/" + patient);
  }

  @Test
  void theHapiClientFollowsTheLinksToo() throws Exception {
    IGenericClient client = it.client(token());
    Bundle page = client.search().forResource("Patient").count(PAGE).returnBundle(Bundle.class).execute();
    int n = page.getEntry().size();
    while (page.getLink(Bundle.LINK_NEXT) != null) {
      page = client.loadPage().next(page).execute();
      n += page.getEntry().size();
    }
    assertThat(n).isEqualTo(it.patientCount());
  }
}
