package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.it.ItEnvironment.assertOperationOutcome;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real HTTP through fhirwall to a real HAPI FHIR server, with HAPI's own generic client: an
 * authorised principal's reads, searches (paging through fhirwall's rewritten links), creates,
 * updates and batches pass through unchanged; the EPR's address never reaches the client.
 */
@ExtendWith(LeakWatch.class)
class ProxyIT {
  static ItEnvironment it;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(600);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  @Test
  void aReadPassesThroughUnchanged() throws Exception {
    IGenericClient client = it.client(it.token("reader", "physician"));
    Bundle first = client.search().forResource(Patient.class).count(1).returnBundle(Bundle.class).execute();
    String id = first.getEntryFirstRep().getResource().getIdElement().getIdPart();
    Patient viaProxy = client.read().resource(Patient.class).withId(id).execute();
    Patient direct = ItEnvironment.FHIR.newRestfulGenericClient(it.env.eprBase()).read().resource(Patient.class).withId(id).execute();
    assertThat(viaProxy.getNameFirstRep().getFamily()).isEqualTo(direct.getNameFirstRep().getFamily());
    assertThat(viaProxy.getBirthDate()).isEqualTo(direct.getBirthDate());
    assertThat(viaProxy.getIdElement().getBaseUrl()).isEqualTo(it.proxyBase());
  }

  @Test
  void aSearchPagesThroughFhirwallsOwnLinksToTheEnd() throws Exception {
    IGenericClient client = it.client(it.token("pager", "physician"));
    Bundle page = client.search().forResource(Patient.class).count(50).returnBundle(Bundle.class).execute();
    Set<String> ids = new HashSet<>();
    int pages = 0;
    while (true) {
      pages++;
      for (Bundle.BundleEntryComponent e : page.getEntry()) {
        ids.add(e.getResource().getIdElement().getIdPart());
        assertThat(e.getFullUrl()).startsWith(it.proxyBase());
      }
      for (Bundle.BundleLinkComponent l : page.getLink()) {
        assertThat(l.getUrl()).startsWith(it.proxyBase()).doesNotContain(it.env.eprBase());
      }
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        break;
      }
      assertThat(page.getLink(Bundle.LINK_NEXT).getUrl()).contains("_fwpage=").doesNotContain("_getpages");
      page = client.loadPage().next(page).execute();
    }
    assertThat(ids).hasSize(it.env.store().count("Patient"));
    // a full page always links to a next one (FullPages): when the patients fill the last page exactly, one more,
    // empty, page ends the search
    assertThat(pages).isEqualTo(ids.size() / 50 + 1);
    assertThat(page.getEntry()).as("the last page").hasSize(ids.size() % 50);
  }

  @Test
  void createUpdateAndBatchPassThrough() throws Exception {
    IGenericClient client = it.client(it.token("writer", "physician"));
    String patientId = client.search().forResource(Patient.class).count(1).returnBundle(Bundle.class).execute()
        .getEntryFirstRep().getResource().getIdElement().getIdPart();
    Observation o = new Observation();
    o.setStatus(Observation.ObservationStatus.FINAL);
    o.getCode().setText("heart rate");
    o.setSubject(new Reference("Patient/" + patientId));
    MethodOutcome created = client.create().resource(o).execute();
    assertThat(created.getCreated()).isTrue();
    assertThat(created.getId().getBaseUrl()).isEqualTo(it.proxyBase());
    String obsId = created.getId().getIdPart();

    Observation read = client.read().resource(Observation.class).withId(obsId).execute();
    read.getCode().setText("heart rate, resting");
    MethodOutcome updated = client.update().resource(read).execute();
    assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");
    assertThat(client.read().resource(Observation.class).withId(obsId).execute().getCode().getText())
        .isEqualTo("heart rate, resting");

    Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
    batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Patient/" + patientId);
    batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Observation/" + obsId);
    Bundle answer = client.transaction().withBundle(batch).execute();
    assertThat(answer.getType()).isEqualTo(Bundle.BundleType.BATCHRESPONSE);
    assertThat(answer.getEntry()).hasSize(2).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("200"));
  }

  @Test
  void withoutATokenNothingFlows() throws Exception {
    HttpResponse<String> r = it.get("Patient?_count=5", null);
    assertOperationOutcome(r, 401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
  }

  @Test
  void aPasswordOnlyTokenGetsAStepUpChallenge() throws Exception {
    HttpResponse<String> r = it.get("Patient?_count=5", it.token("pwd-only", List.of("pwd"), "physician"));
    assertOperationOutcome(r, 401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("insufficient_user_authentication");
    assertThat(r.body()).doesNotContain("\"Patient\"");
  }

  @Test
  void aPagingLinkIsBoundToItsPrincipalAndHandMadePagingIsRefused() throws Exception {
    String alice = it.token("alice", "physician");
    HttpResponse<String> first = it.get("Patient?_count=10", alice);
    assertThat(first.statusCode()).isEqualTo(200);
    Bundle bundle = ItEnvironment.FHIR.newJsonParser().parseResource(Bundle.class, first.body());
    String next = bundle.getLink(Bundle.LINK_NEXT).getUrl();
    assertThat(it.get(next, alice).statusCode()).isEqualTo(200);
    assertOperationOutcome(it.get(next, it.token("mallory", "physician")), 403);
    assertThat(it.get(next.replace("_fwpage=", "_fwpage=x"), alice).statusCode()).isIn(400, 403);
    assertThat(it.get("?_getpages=abc&_getpagesoffset=10&_count=10", alice).statusCode()).isIn(400, 403);
  }

  @Test
  void malformedPathsAreRefusedBeforeTheEpr() throws Exception {
    String t = it.token("odd", "physician");
    for (String path : List.of("Patient/../Observation", "Patient/%2e%2e/x", "patient?_count=1", "Patient;x=1",
        "Patient?_count=1&_count=2", "Patient?%5Fcount=1", "Patient/1%252F2")) {
      HttpResponse<String> r = it.get(path, t);
      assertThat(r.statusCode()).as(path).isBetween(400, 404);
    }
  }

  @Test
  void aResponseOverTheLimitIsReplacedBy429AndTheAccountLocked() throws Exception {
    String t = it.token("limited-user", "limited");
    HttpResponse<String> small = it.get("Patient?_count=20", t);
    assertThat(small.statusCode()).as("%.200s", small.body()).isEqualTo(200);
    HttpResponse<String> over = it.get("Patient?_id=" + String.join(",", it.env.store().samplePatientIds(300, 9).subList(100, 120)), t);
    assertThat(over.statusCode()).as("%.300s", over.body()).isEqualTo(429);
    assertThat(over.headers().firstValue("Retry-After")).isPresent();
    assertThat(over.body()).doesNotContain("\"resourceType\":\"Patient\"");
    HttpResponse<String> afterLock = it.get(readablePatient(t), t);
    assertOperationOutcome(afterLock, 429);
    assertThat(afterLock.body()).contains("locked");
  }

  private String readablePatient(String token) throws Exception {
    List<String> ids = new ArrayList<>(it.env.store().samplePatientIds(1, 1));
    return "Patient/" + ids.get(0);
  }

  @Test
  void refusalsComeInTheFormatTheClientAskedFor() throws Exception {
    HttpResponse<String> xml = it.send(HttpRequest.newBuilder(it.uri("Patient?_count=3")).header("Accept", "application/fhir+xml").GET(),
        null);
    assertThat(xml.statusCode()).isEqualTo(401);
    assertThat(xml.headers().firstValue("Content-Type").orElseThrow()).contains("fhir+xml");
    assertThat(xml.body()).contains("<OperationOutcome");
    HttpResponse<String> viaFormat = it.get("Patient/../x?_format=xml", it.token("fmt", "physician"));
    assertThat(viaFormat.statusCode()).isEqualTo(400);
    assertThat(viaFormat.body()).contains("OperationOutcome");
  }

  @Test
  void xmlIsServedToClientsThatAskForIt() throws Exception {
    HttpResponse<String> r = it.send(HttpRequest.newBuilder(it.uri("Patient?_count=3")).header("Accept", "application/fhir+xml").GET(),
        it.token("xml", "physician"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).contains("xml");
    assertThat(r.body()).startsWith("<Bundle").contains(it.proxyBase()).doesNotContain(it.env.eprBase());
  }
}
