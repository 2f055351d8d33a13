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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every query shape is counted: a principal whose role allows 25 distinct patients an hour never
 * receives more than 25, whatever it asks, through fhirwall to a real HAPI FHIR server (the demo's
 * EPR in {@link RecordLimitsIT}, HAPI's JPA server in {@link RecordLimitsJpaIT}). Patients are
 * counted here from what the client receives with the suite's own oracle ({@link DisclosedPatients}:
 * HAPI's parser and compartment model), never from fhirwall's bookkeeping. The limit is stated
 * here, as {@code it-policies/counted.yaml} sets it.
 */
@ExtendWith(LeakWatch.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RecordLimitsCases {
  static final int LIMIT = 25;
  static final ObjectMapper JSON = new ObjectMapper();
  ItEnvironment it;
  List<String> patientIds;

  /** Starts fhirwall in front of this suite's EPR; called from the subclass's {@code @BeforeAll}. */
  void use(ItEnvironment env) {
    it = env;
    patientIds = env.samplePatientIds(120, 5);
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  Session session() {
    return new Session();
  }

  /** One principal's session, counting the distinct patients it received. */
  final class Session {
    final String token = it.token("counted-" + UUID.randomUUID(), "counted");
    final Set<String> received = new HashSet<>();
    int ok;
    int throttled;

    HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
      HttpResponse<String> r = it.send(request, token);
      if (r.statusCode() == 200 || r.statusCode() == 201) {
        ok++;
        received.addAll(DisclosedPatients.in(r));
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

  String ids(int from, int n) {
    return String.join(",", patientIds.subList(from, from + n));
  }

  static String getBundle(String type, List<String> urls) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[");
    for (int i = 0; i < urls.size(); i++) {
      sb.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"").append(urls.get(i)).append("\"}}");
    }
    return sb.append("]}").toString();
  }

  HttpRequest.Builder post(String path, String contentType, String body) {
    return HttpRequest.newBuilder(it.uri(path)).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void searchPagedThroughNextLinks() throws Exception {
    Session s = session();
    s.page("Patient?_count=10");
    s.assertCappedAtTheLimit();
    assertThat(s.received).hasSize(20);
  }

  @Test
  void aLargeCount() throws Exception {
    Session s = session();
    s.get("Patient?_count=1000");
    s.page("Patient?_count=5");
    s.assertCappedAtTheLimit();
  }

  @Test
  void includeAndRevinclude() throws Exception {
    Session s = session();
    s.page("Observation?_include=Observation:subject&_count=30");
    s.page("Patient?_revinclude=Observation:subject&_count=30");
    s.page("Encounter?_include=Encounter:subject&_include:iterate=Patient:general-practitioner&_count=30");
    s.assertCappedAtTheLimit();
  }

  @Test
  void clinicalSearchesOverManyPatients() throws Exception {
    Session s = session();
    for (String type : List.of("Observation", "Encounter", "MedicationRequest", "Condition")) {
      s.page(type + "?_count=40");
    }
    s.assertCappedAtTheLimit();
  }

  @Test
  void compartmentSearchesOneAfterAnother() throws Exception {
    Session s = session();
    if (!it.isJpa()) {
      for (String id : patientIds.subList(0, 40)) {
        s.get("Patient/" + id + "/Observation");
      }
      s.assertCappedAtTheLimit();
      assertThat(s.received).hasSize(LIMIT);
      return;
    }
    // HAPI's JPA server has no compartment search (Patient/ID/Observation is its own 400): fhirwall passes the EPR's
    // answer on, and still charges the patient each request names, so the 26th distinct one is refused unasked
    int eprRefused = 0;
    for (String id : patientIds.subList(0, 40)) {
      HttpResponse<String> r = it.get("Patient/" + id + "/Observation", s.token);
      if (r.statusCode() == 429) {
        s.throttled++;
      } else {
        ItEnvironment.assertOperationOutcome(r, 400);
        assertThat(r.body()).contains("not-supported");
        eprRefused++;
      }
    }
    assertThat(eprRefused).isEqualTo(LIMIT);
    assertThat(s.throttled).isEqualTo(40 - LIMIT);
  }

  @Test
  void anIdOrList() throws Exception {
    Session s = session();
    s.get("Patient?_id=" + ids(0, 40));
    s.get("Patient?_id=" + ids(40, 20));
    s.get("Patient?_id=" + ids(60, 10));
    s.assertCappedAtTheLimit();
  }

  @Test
  void chainedParametersAndHas() throws Exception {
    Session s = session();
    s.page("Observation?subject:Patient.gender=female&_count=30");
    s.page("Patient?_has:Observation:subject:status=final&_count=30");
    s.assertCappedAtTheLimit();
  }

  @Test
  void postSearchWithAFormBody() throws Exception {
    Session s = session();
    // a page is at most 25 patients (the role's max-count may not exceed its limit): two pages of distinct ones
    s.send(post("Patient/_search", "application/x-www-form-urlencoded", "_id=" + ids(0, 20)));
    s.send(post("Patient/_search", "application/x-www-form-urlencoded", "_id=" + ids(20, 20)));
    s.send(post("Observation/_search", "application/x-www-form-urlencoded", "_count=60"));
    s.assertCappedAtTheLimit();
  }

  @Test
  void batchAndTransactionOfManyReads() throws Exception {
    Session s = session();
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
    Session s = session();
    s.page("Patient/_history?_count=20");
    s.page("_history?_count=20");
    s.assertCappedAtTheLimit();
  }

  @Test
  void everythingForOnePatientAndForTheType() throws Exception {
    Session s = session();
    for (String id : patientIds.subList(0, 10)) {
      s.get("Patient/" + id + "/$everything");
    }
    s.page("Patient/$everything?_count=30");
    s.assertCappedAtTheLimit();
  }

  @Test
  void xmlResponses() throws Exception {
    Session s = session();
    s.page("Patient?_count=10&_format=xml");
    s.send(HttpRequest.newBuilder(it.uri("Observation?_count=50")).header("Accept", "application/fhir+xml").GET());
    s.assertCappedAtTheLimit();
  }

  @Test
  void elementsId() throws Exception {
    Session s = session();
    s.page("Patient?_elements=id&_count=20");
    s.page("Observation?_elements=id&_count=40");
    s.assertCappedAtTheLimit();
  }

  @Test
  void aCountOverThePopulationIsRefusedForItCannotBeCharged() throws Exception {
    Session s = session();
    HttpResponse<String> r = it.get("Patient?_summary=count", s.token);
    ItEnvironment.assertOperationOutcome(r, 403);
    assertThat(r.body()).contains("too-costly").doesNotContain("\"total\"");
  }

  @Test
  void aCountAboutANamedPatientIsADisclosureOfThatPatient() throws Exception {
    Session s = session();
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
    Session s = session();
    HttpResponse<String> shaped = s.get("Observation?_elements=code&_count=10");
    assertThat(shaped.body()).doesNotContain("\"subject\"");
    s.page("Observation?_elements:exclude=subject&_count=10");
    s.page("Condition?_summary=true&_count=10");
    s.assertCappedAtTheLimit();
  }

  @Test
  void readsOneByOne() throws Exception {
    Session s = session();
    for (String id : patientIds.subList(0, 40)) {
      s.get("Patient/" + id);
    }
    s.assertCappedAtTheLimit();
    assertThat(s.received).hasSize(LIMIT);
  }

  /**
   * A projection hides the patient from the client but not from the count: each request asks for one observation by
   * its id (naming no patient) in a shape that drops its subject; the suite reads the same observation unprojected
   * straight from the EPR, and each answer must be exactly 200 while the distinct patients behind the answers fit
   * in the limit, and 429 once they fill it (the role refuses at its limit: its principal is then held before the
   * EPR, whatever the next answer would hold).
   */
  @Test
  void projectedPatientsAreCountedToTheExactBoundary() throws Exception {
    Session s = session();
    List<String> projections = List.of("_elements=code", "_summary=text", "_elements:exclude=subject,encounter,performer");
    Set<String> behind = new HashSet<>();
    int refused = 0;
    for (int k = 1; refused < 3 && k < 400; k++) {
      String query = "Observation?_id=o" + k;
      Set<String> patients = DisclosedPatients.in(it.sendDirect(query));
      assertThat(patients).as("the unprojected answer to " + query).hasSize(1);
      Set<String> wouldBe = new HashSet<>(behind);
      wouldBe.addAll(patients);
      HttpResponse<String> r = s.get(query + "&" + projections.get(k % projections.size()));
      if (behind.size() < LIMIT) {
        assertThat(r.statusCode()).as(query + " with " + behind.size() + " patients seen").isEqualTo(200);
        assertThat(DisclosedPatients.in(r)).as("the projection hides the patient from the client").isEmpty();
        behind = wouldBe;
      } else { // the window is full: held before the EPR, whoever the answer's patient (at-limit: refuse)
        assertThat(r.statusCode()).as(query + ": patient " + patients + (wouldBe.size() > LIMIT ? " would be the "
            + wouldBe.size() + "th" : " is counted, but the search names nobody")).isEqualTo(429);
        assertThat(r.body()).contains("only requests that name patients already counted");
        refused++;
      }
    }
    assertThat(behind).hasSize(LIMIT);
    assertThat(refused).isEqualTo(3);
  }

  /**
   * The race at the limit's edge: many requests of one account in flight at once, each for patients not seen
   * before; whatever order fhirwall charges them in, the union of what the clients received never passes the
   * limit. Repeated with a fresh account each run.
   */
  @Test
  void parallelRequestsAtTheEdgeNeverReleaseMoreThanTheLimit() throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
    try {
      for (int run = 0; run < 12; run++) {
        String token = it.token("racer-" + run + "-" + UUID.randomUUID(), "counted");
        List<java.util.concurrent.Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
          // reads and small searches, so that answers of one and of several patients race each other
          String path = i % 4 == 3 ? "Patient?_id=" + ids((i * 2) % 100, 3) : "Patient/" + patientIds.get((i + run) % 120);
          answers.add(pool.submit(() -> it.get(path, token)));
        }
        Set<String> union = new HashSet<>();
        int ok = 0;
        for (java.util.concurrent.Future<HttpResponse<String>> f : answers) {
          HttpResponse<String> r = f.get();
          assertThat(r.statusCode()).as(r.body()).isIn(200, 429);
          if (r.statusCode() == 200) {
            ok++;
            union.addAll(DisclosedPatients.in(r));
          }
        }
        assertThat(union).as("run " + run + ": patients released to one account").hasSizeLessThanOrEqualTo(LIMIT);
        assertThat(ok).as("run " + run + ": some requests answered").isPositive();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A lock is the account's, not the token's: once a role with {@code at-limit: lock} (it-limited: 25 patients)
   * is locked, a new login of the same user (another session, fresh authentication) and the same user through
   * another client are refused too, before the EPR is asked.
   */
  @Test
  void theLockHoldsForANewSessionAndAnotherClientOfTheSameUser() throws Exception {
    String user = "locked-" + UUID.randomUUID();
    String first = lockedToken(user, "fhirwall-web");
    int answered = 0;
    HttpResponse<String> r = null;
    for (String id : patientIds.subList(0, LIMIT + 1)) {
      r = it.get("Patient/" + id, first);
      if (r.statusCode() != 200) {
        break;
      }
      answered++;
    }
    assertThat(answered).isEqualTo(LIMIT);
    ItEnvironment.assertOperationOutcome(r, 429);
    String seen = patientIds.get(0);
    for (String other : List.of(lockedToken(user, "fhirwall-web"), lockedToken(user, "research-export"))) {
      HttpResponse<String> again = it.get("Patient/" + seen, other);
      ItEnvironment.assertOperationOutcome(again, 429);
      assertThat(again.body()).contains("locked").doesNotContain("\"resourceType\":\"Patient\"");
    }
    // another user of the same role is not touched by the lock
    assertThat(it.get("Patient/" + seen, lockedToken("other-" + UUID.randomUUID(), "fhirwall-web")).statusCode())
        .isEqualTo(200);
  }

  /** A fresh session (own sid, authenticated just now with a second factor) of {@code user} in role it-limited. */
  String lockedToken(String user, String client) {
    return it.issuer().mint(org.fhirwall.demo.DemoIssuer.Claims.builder("sub-" + user, "fhirwall", client).username(user)
        .roles(Set.of("limited")).amr(List.of("pwd", "otp")).authTime(java.time.Instant.now().minusSeconds(5))
        .sid(UUID.randomUUID().toString()).build());
  }

  /**
   * The audit trail is complete and says what happened: for every request, whatever its ending (answered, throttled,
   * refused for its form, unauthenticated), exactly one decision record carries its {@code X-Request-Id}, with the
   * outcome and status the client got, and a released answer's record names every patient the client saw in it.
   */
  @Test
  void exactlyOneAuditRecordPerRequestWithItsOutcomeAndThePatientsTheClientSaw() throws Exception {
    Session s = session();
    java.util.Map<String, HttpResponse<String>> sent = new java.util.LinkedHashMap<>();
    java.util.function.Consumer<HttpResponse<String>> keep =
        r -> sent.put(r.headers().firstValue("X-Request-Id").orElseThrow(() -> new AssertionError("no X-Request-Id")), r);
    keep.accept(s.get("Patient?_id=" + ids(0, 5)));
    keep.accept(s.get("Observation?subject=Patient/" + patientIds.get(6) + "&_count=5"));
    keep.accept(s.get("Patient/" + patientIds.get(7) + "/$everything?_count=10"));
    for (String id : patientIds.subList(8, 8 + LIMIT)) {
      keep.accept(s.get("Patient/" + id));
    }
    keep.accept(it.get("Patient?_id=" + patientIds.get(0) + "&_count=5&_count=6", s.token));
    keep.accept(it.get("Patient/" + patientIds.get(0), null));
    assertThat(sent.values()).extracting(HttpResponse::statusCode).contains(200, 429, 400, 401);

    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    java.util.Map<String, List<JsonNode>> records;
    do {
      records = new java.util.HashMap<>();
      for (String line : it.auditLines()) {
        JsonNode event = JSON.readTree(line);
        if ("rest".equals(event.path("type").path("code").asText()) && sent.containsKey(event.path("id").asText())) {
          records.computeIfAbsent(event.path("id").asText(), k -> new ArrayList<>()).add(event);
        }
      }
      if (records.size() == sent.size()) {
        break;
      }
      Thread.onSpinWait();
    } while (System.nanoTime() < deadline);

    for (var request : sent.entrySet()) {
      HttpResponse<String> r = request.getValue();
      List<JsonNode> mine = records.getOrDefault(request.getKey(), List.of());
      assertThat(mine).as("decision records for " + r.request().uri() + " (" + r.statusCode() + ")").hasSize(1);
      JsonNode event = mine.get(0);
      assertThat(event.path("outcome").asText()).as(r.request().uri().toString()).isEqualTo(r.statusCode() == 200 ? "0" : "4");
      // the compact record leaves out the commonest status: no status detail means 200
      String status = "200";
      for (JsonNode d : event.path("entity").path(0).path("detail")) {
        if ("status".equals(d.path("type").asText())) {
          status = d.path("valueString").asText();
        }
      }
      assertThat(status).as("recorded status of " + r.request().uri()).isEqualTo(Integer.toString(r.statusCode()));
      Set<String> named = new HashSet<>();
      for (JsonNode e : event.path("entity")) {
        if (e.path("what").has("reference")) {
          named.add(e.path("what").path("reference").asText());
        }
      }
      if (r.statusCode() == 200) {
        assertThat(named).as("patients recorded for " + r.request().uri()).containsAll(DisclosedPatients.in(r));
      }
    }
  }
}
