package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.fhirwall.demo.IncidentScript;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every query shape is counted: a principal whose role allows 25 distinct patients an hour never
 * receives more than 25, whatever it asks, through fhirwall to a real HAPI FHIR server holding
 * a few thousand patients. Patients are counted here from what the client receives, not from
 * fhirwall's bookkeeping.
 */
@ExtendWith(LeakWatch.class)
class RecordLimitsIT {
  static final int LIMIT = 25;
  static final ObjectMapper JSON = new ObjectMapper();
  static ItEnvironment it;
  static List<String> patientIds;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(3000);
    patientIds = it.env.store().samplePatientIds(120, 5);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  /** One principal's session, counting the distinct patients it received. */
  static final class Session {
    final String token = it.token("counted-" + UUID.randomUUID(), "counted");
    final Set<String> received = new HashSet<>();
    int ok;
    int throttled;

    HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
      HttpResponse<String> r = it.send(request, token);
      if (r.statusCode() == 200 || r.statusCode() == 201) {
        ok++;
        received.addAll(patientsIn(r));
      } else if (r.statusCode() == 429) {
        throttled++;
        assertThat(r.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"");
      } else {
        throw new AssertionError("unexpected " + r.statusCode() + ": " + r.body());
      }
      return r;
    }

    HttpResponse<String> get(String path) throws Exception {
      return send(HttpRequest.newBuilder(it.uri(path)).GET());
    }

    /** Follows next links until fhirwall stops the search or it ends. */
    void page(String first) throws Exception {
      String next = first;
      for (int i = 0; next != null && i < 500; i++) {
        HttpResponse<String> r = get(next);
        next = r.statusCode() == 200 ? nextLink(r) : null;
      }
    }

    void assertCappedAtTheLimit() {
      assertThat(received).as("distinct patients received").hasSizeLessThanOrEqualTo(LIMIT);
      assertThat(throttled).as("the limit was reached and a response refused").isPositive();
    }
  }

  static Set<String> patientsIn(HttpResponse<String> r) throws Exception {
    String body = r.body();
    if (body.isEmpty()) {
      return Set.of();
    }
    Set<String> found = new HashSet<>();
    String type = r.headers().firstValue("Content-Type").orElse("");
    if (type.contains("xml")) {
      IBaseResource res = ItEnvironment.FHIR.newXmlParser().parseResource(body);
      body = ItEnvironment.FHIR.newJsonParser().encodeResourceToString(res);
    }
    collect(JSON.readTree(body), found);
    return found;
  }

  /** The patients a client sees in a body: the demo's own client-side counter. */
  static void collect(JsonNode node, Set<String> into) {
    IncidentScript.collectPatients(node, into);
  }

  static String nextLink(HttpResponse<String> r) throws Exception {
    String body = r.body();
    if (r.headers().firstValue("Content-Type").orElse("").contains("xml")) {
      body = ItEnvironment.FHIR.newJsonParser().encodeResourceToString(ItEnvironment.FHIR.newXmlParser().parseResource(body));
    }
    for (JsonNode l : JSON.readTree(body).path("link")) {
      if ("next".equals(l.path("relation").asText())) {
        return l.path("url").asText();
      }
    }
    return null;
  }

  static String ids(int from, int n) {
    return String.join(",", patientIds.subList(from, from + n));
  }

  static String getBundle(String type, List<String> urls) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[");
    for (int i = 0; i < urls.size(); i++) {
      sb.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"").append(urls.get(i)).append("\"}}");
    }
    return sb.append("]}").toString();
  }

  static HttpRequest.Builder post(String path, String contentType, String body) {
    return HttpRequest.newBuilder(it.uri(path)).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void searchPagedThroughNextLinks() throws Exception {
    Session s = new Session();
    s.page("Patient?_count=10");
    s.assertCappedAtTheLimit();
    assertThat(s.received).hasSize(20);
  }

  @Test
  void aLargeCount() throws Exception {
    Session s = new Session();
    s.get("Patient?_count=1000");
    s.page("Patient?_count=5");
    s.assertCappedAtTheLimit();
  }

  @Test
  void includeAndRevinclude() throws Exception {
    Session s = new Session();
    s.page("Observation?_include=Observation:subject&_count=30");
    s.page("Patient?_revinclude=Observation:subject&_count=30");
    s.page("Encounter?_include=Encounter:subject&_include:iterate=Patient:general-practitioner&_count=30");
    s.assertCappedAtTheLimit();
  }

  @Test
  void clinicalSearchesOverManyPatients() throws Exception {
    Session s = new Session();
    for (String type : List.of("Observation", "Encounter", "MedicationRequest", "Condition")) {
      s.page(type + "?_count=40");
    }
    s.assertCappedAtTheLimit();
  }

  @Test
  void compartmentSearchesOneAfterAnother() throws Exception {
    Session s = new Session();
    for (String id : patientIds.subList(0, 40)) {
      s.get("Patient/" + id + "/Observation");
    }
    s.assertCappedAtTheLimit();
    assertThat(s.received).hasSize(LIMIT);
  }

  @Test
  void anIdOrList() throws Exception {
    Session s = new Session();
    s.get("Patient?_id=" + ids(0, 40));
    s.get("Patient?_id=" + ids(40, 20));
    s.get("Patient?_id=" + ids(60, 10));
    s.assertCappedAtTheLimit();
  }

  @Test
  void chainedParametersAndHas() throws Exception {
    Session s = new Session();
    s.page("Observation?subject:Patient.gender=female&_count=30");
    s.page("Patient?_has:Observation:subject:status=final&_count=30");
    s.assertCappedAtTheLimit();
  }

  @Test
  void postSearchWithAFormBody() throws Exception {
    Session s = new Session();
    // a page is at most 25 patients (the role's max-count may not exceed its limit): two pages of distinct ones
    s.send(post("Patient/_search", "application/x-www-form-urlencoded", "_id=" + ids(0, 20)));
    s.send(post("Patient/_search", "application/x-www-form-urlencoded", "_id=" + ids(20, 20)));
    s.send(post("Observation/_search", "application/x-www-form-urlencoded", "_count=60"));
    s.assertCappedAtTheLimit();
  }

  @Test
  void batchAndTransactionOfManyReads() throws Exception {
    Session s = new Session();
    // at most 25 entries a bundle (the role's batch.max-entries may not exceed its limit)
    List<String> reads = patientIds.subList(0, 20).stream().map(id -> "Patient/" + id).collect(Collectors.toList());
    s.send(post("", "application/fhir+json", getBundle("batch", reads)));
    List<String> searches = new ArrayList<>();
    for (String id : patientIds.subList(40, 60)) {
      searches.add("Observation?subject=Patient/" + id);
    }
    s.send(post("", "application/fhir+json", getBundle("transaction", searches)));
    s.send(post("", "application/fhir+json", getBundle("batch", reads.subList(0, 10))));
    s.assertCappedAtTheLimit();
  }

  @Test
  void historyAtTypeAndSystemLevel() throws Exception {
    Session s = new Session();
    s.page("Patient/_history?_count=20");
    s.page("_history?_count=20");
    s.assertCappedAtTheLimit();
  }

  @Test
  void everythingForOnePatientAndForTheType() throws Exception {
    Session s = new Session();
    for (String id : patientIds.subList(0, 10)) {
      s.get("Patient/" + id + "/$everything");
    }
    s.page("Patient/$everything?_count=30");
    s.assertCappedAtTheLimit();
  }

  @Test
  void xmlResponses() throws Exception {
    Session s = new Session();
    s.page("Patient?_count=10&_format=xml");
    s.send(HttpRequest.newBuilder(it.uri("Observation?_count=50")).header("Accept", "application/fhir+xml").GET());
    s.assertCappedAtTheLimit();
  }

  @Test
  void elementsId() throws Exception {
    Session s = new Session();
    s.page("Patient?_elements=id&_count=20");
    s.page("Observation?_elements=id&_count=40");
    s.assertCappedAtTheLimit();
  }

  @Test
  void aCountOverThePopulationIsRefusedForItCannotBeCharged() throws Exception {
    Session s = new Session();
    HttpResponse<String> r = it.get("Patient?_summary=count", s.token);
    ItEnvironment.assertOperationOutcome(r, 403);
    assertThat(r.body()).contains("too-costly").doesNotContain("\"total\"");
  }

  @Test
  void aCountAboutANamedPatientIsADisclosureOfThatPatient() throws Exception {
    Session s = new Session();
    int answered = 0;
    for (String id : patientIds.subList(0, 40)) {
      HttpResponse<String> r = s.get("Observation?subject=Patient/" + id + "&_summary=count");
      if (r.statusCode() == 200) {
        answered++;
      }
    }
    assertThat(answered).as("counts about distinct named patients answered").isEqualTo(LIMIT);
    assertThat(s.throttled).isEqualTo(40 - LIMIT);
  }

  @Test
  void summaryAndElementProjectionsCannotHideThePatient() throws Exception {
    Session s = new Session();
    HttpResponse<String> shaped = s.get("Observation?_elements=code&_count=10");
    assertThat(shaped.body()).doesNotContain("\"subject\"");
    s.page("Observation?_elements:exclude=subject&_count=10");
    s.page("Condition?_summary=true&_count=10");
    s.assertCappedAtTheLimit();
  }

  @Test
  void readsOneByOne() throws Exception {
    Session s = new Session();
    for (String id : patientIds.subList(0, 40)) {
      s.get("Patient/" + id);
    }
    s.assertCappedAtTheLimit();
    assertThat(s.received).hasSize(LIMIT);
  }

}
