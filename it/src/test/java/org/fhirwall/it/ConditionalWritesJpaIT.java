package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.fhirwall.it.jpa.EprRequestLog;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A conditional write is a search the EPR runs for whoever may write, against HAPI FHIR's JPA server (adversarial
 * sweep 5): whose criteria matched two records got 412 ("this search matched 2 resources") uncharged and unwatched;
 * whose criteria chained into another patient's records ({@code subject.name=...}) or widened with a modifier were
 * never held to the role's search rules; and a conditional delete told whether anything matched (and deleted it).
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConditionalWritesJpaIT {
  ItEnvironment it;
  EprRequestLog log;
  String patient;
  JpaEpr epr;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    this.epr = epr;
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    patient = epr.samplePatientIds(1, 23).get(0);
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String writer() {
    return it.token("conditional-" + UUID.randomUUID(), "physician");
  }

  String observation(String key) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"sweep 5\"},\"subject\":"
        + "{\"reference\":\"Patient/" + patient + "\"},\"identifier\":[{\"system\":\"urn:sweep5\",\"value\":\"" + key + "\"}]}";
  }

  HttpResponse<String> write(String method, String path, String body, String token, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(it.uri(path));
    if (body != null) {
      b.header("Content-Type", "application/fhir+json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return it.send(b, token);
  }

  /** Two records sharing one identifier, written through fhirwall. */
  String twoRecordsSharingAKey(String token) throws Exception {
    String key = UUID.randomUUID().toString();
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> r = write("POST", "Observation", observation(key), token);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
    return key;
  }

  @Test
  void aConditionalCreateKeyedByAnIdentifierStillWorks() throws Exception {
    String t = writer();
    String key = UUID.randomUUID().toString();
    HttpResponse<String> first = write("POST", "Observation", observation(key), t, "If-None-Exist", "identifier=urn:sweep5|" + key);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    HttpResponse<String> again = write("POST", "Observation", observation(key), t, "If-None-Exist", "identifier=urn:sweep5|" + key);
    assertThat(again.statusCode()).as("the record it matched: " + again.body()).isEqualTo(200);
  }

  /**
   * The id-walk watch of the writer role (the default: 20 in 10 minutes, then a lock) counts each 412: of a conditional
   * create, a conditional update, and a transaction (which fails whole with its entry's 412).
   */
  @Test
  void conditionalWritesThatMatchSeveralRecordsEndInALock() throws Exception {
    String t = writer();
    String key = twoRecordsSharingAKey(t);
    String transaction = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + observation(key) + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\",\"ifNoneExist\":"
        + "\"identifier=urn:sweep5|" + key + "\"}}]}";
    for (int i = 0; i < 21; i++) {
      HttpResponse<String> r = i % 3 == 0
          ? write("POST", "Observation", observation(key), t, "If-None-Exist", "identifier=urn:sweep5|" + key)
          : i % 3 == 1 ? write("PUT", "Observation?identifier=urn:sweep5%7C" + key + "&subject=Patient/" + patient,
              observation(key), t)
          : write("POST", "", transaction, t);
      assertThat(r.statusCode()).as(i + ": " + r.body()).isEqualTo(412);
    }
    HttpResponse<String> locked = write("POST", "Observation", observation(key), t, "If-None-Exist", "identifier=urn:sweep5|" + key);
    ItEnvironment.assertOperationOutcome(locked, 429);
    assertThat(locked.body()).contains("locked");
  }

  /**
   * HAPI FHIR resolves a conditional reference in a body when it writes: several matches are a 412 too, none a 404
   * ("HAPI-1091: Invalid match URL ... - No resources match this search").
   */
  @Test
  void writesWhoseConditionalReferenceMatchesSeveralPatientsOrNoneEndInALock() throws Exception {
    String t = writer();
    String key = UUID.randomUUID().toString();
    List<String> created = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> r = write("POST", "Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
            + "\"urn:sweep5\",\"value\":\"" + key + "\"}]}", t);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        r.headers().firstValue("Location").ifPresent(created::add);
      }
      String obs = observation(key).replace("Patient/" + patient, "Patient?identifier=urn:sweep5|" + key);
      String none = observation(key).replace("Patient/" + patient, "Patient?identifier=urn:sweep5|none-" + key);
      for (int i = 0; i < 21; i++) {
        HttpResponse<String> r = write("POST", "Observation", i % 2 == 0 ? obs : none, t);
        assertThat(r.statusCode()).as(i + ": " + r.body()).isEqualTo(i % 2 == 0 ? 412 : 404);
      }
      ItEnvironment.assertOperationOutcome(write("POST", "Observation", obs, t), 429);
    } finally {
      deleteAtTheEpr(created);
    }
  }

  /**
   * Deletes, at the JPA server itself and in the order given, records this suite created (their {@code Location}s): the
   * other suites share the server and count its patients (PagingJpaIT pages through every one of the 200 it was loaded
   * with), whatever order the suites run in. A record that refers to another goes before it.
   */
  void deleteAtTheEpr(List<String> locations) throws Exception {
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    for (String location : locations) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("([A-Za-z]+)/([^/]+)/_history/").matcher(location);
      assertThat(m.find()).as(location).isTrue();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(java.net.URI.create(epr.baseUrl() + "/" + m.group(1) + "/"
          + m.group(2))).DELETE().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("deleting " + location + " at the EPR: " + r.body()).isBetween(200, 204);
    }
  }

  @Test
  void theCriteriaAreHeldToTheSearchRulesBeforeTheEprRunsThem() throws Exception {
    String t = writer();
    refusedBeforeTheEpr(write("POST", "Observation", observation("x"), t, "If-None-Exist",
        "subject.name=smith&code=8867-4"), 403, "search-chains");
    refusedBeforeTheEpr(write("PUT", "Observation?subject.identifier=x&code=8867-4", observation("x"), t), 403,
        "search-chains");
    refusedBeforeTheEpr(write("POST", "Observation", observation("x"), t, "If-None-Exist",
        "value-string:contains=pos&code=8867-4"), 403, "search-modifiers");
    refusedBeforeTheEpr(write("POST", "Patient", "{\"resourceType\":\"Patient\"}", t, "If-None-Exist", "name:Contains=a"),
        400, null);
  }

  /**
   * Adversarial sweep 6: HAPI FHIR resolves a reference with a query in a written resource by searching, wherever it
   * stands and whatever base an absolute one names ({@code Patient/?...} too); its answer tells about the records it
   * matched. The two controls show HAPI resolving the less usual forms; every other write is refused before the EPR
   * hears of it, for its criteria break the writer role's search rules (no chains, no {@code _has}, no {@code :contains})
   * or name a modifier HAPI would read as none.
   */
  @Test
  void conditionalReferencesInABodyAreHeldToTheSearchRulesBeforeTheEprResolvesThem() throws Exception {
    String t = writer();
    String key = UUID.randomUUID().toString();
    HttpResponse<String> created = write("POST", "Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
        + "\"urn:sweep6\",\"value\":\"" + key + "\"}]}", t);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = created.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1");
    List<String> written = new java.util.ArrayList<>();
    try {
      for (String form : List.of("Patient/?identifier=urn:sweep6|" + key, "http://elsewhere.example/fhir/Patient?identifier="
          + "urn:sweep6|" + key)) {
        HttpResponse<String> r = write("POST", "Observation", observation(key).replace("Patient/" + patient, form), t);
        assertThat(r.statusCode()).as(form + ": " + r.body()).isEqualTo(201);
        r.headers().firstValue("Location").ifPresent(written::add);
        assertThat(r.body()).as("HAPI resolved " + form).contains("\"reference\":\"Patient/" + id + "\"");
      }
    } finally {
      written.add(created.headers().firstValue("Location").orElseThrow());
      deleteAtTheEpr(written);
    }

    String obs = observation(key);
    String subject = "Patient/" + patient;
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject, "Patient?organization.name=sweep&name=smith"), t),
        403, "search-chains");
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject, "Patient?_has:Observation:patient:code=8867-4"), t),
        403, "search-has");
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject, "Patient?name:contains=smi"), t), 403,
        "search-modifiers");
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject, "Patient/?general-practitioner.name=house"), t),
        403, "search-chains");
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject,
        "http://elsewhere.example/fhir/Patient?link.name=smith"), t), 403, "search-chains");
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace("{\"resourceType\":\"Observation\",",
        "{\"resourceType\":\"Observation\",\"contained\":[{\"resourceType\":\"Provenance\",\"id\":\"p\",\"recorded\":"
            + "\"2026-12-07T00:00:00Z\",\"agent\":[{\"who\":{\"display\":\"x\"}}],\"target\":[{\"reference\":"
            + "\"Patient?link.name=smith\"}]}],"), t), 403, "search-chains");
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace("{\"resourceType\":\"Observation\",",
        "{\"resourceType\":\"Observation\",\"extension\":[{\"url\":\"urn:sweep6\",\"valueReference\":{\"reference\":"
            + "\"Patient?_has:Condition:subject:code=hiv\"}}],"), t), 403, "search-has");
    refusedBeforeTheEpr(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
        + "\"resource\":" + obs.replace(subject, "Patient?organization.name=sweep") + ",\"request\":{\"method\":\"POST\","
        + "\"url\":\"Observation\"}}]}", t), 403, "search-chains");
    // odd modifiers: HAPI reads name:Contains as name, and a _has chain's :Exact as none
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject, "Patient?name:Contains=smi"), t), 400, null);
    refusedBeforeTheEpr(write("POST", "Observation", obs.replace(subject,
        "Patient?_has:Observation:patient:code:Exact=8867-4"), t), 400, null);
    refusedBeforeTheEpr(write("POST", "Observation", observation("x"), t, "If-None-Exist",
        "_has:Provenance:target:agent:Practitioner.name:EXACT=house"), 400, null);
  }

  /**
   * Adversarial sweep 9: HAPI FHIR resolves a conditional reference to any type, and the written record shows only the
   * id it resolved to ({@code "hasMember": [{"reference": "Observation/<id>"}]}), not whose record that is. So
   * {@code Observation?_id=<id>&code=<code>} in a body told whether another patient's record is that test (201, or 404
   * "No resources match this search"), and through fhirwall nobody was charged: sweep 8's conditional-update oracle,
   * in a body. The control shows HAPI's two answers straight at the EPR; through fhirwall such a reference must name
   * the patient of what it can match (403 {@code conditional-reference} otherwise), who is then charged.
   */
  @Test
  void aConditionalReferenceToAPatientsRecordMustNameThePatient() throws Exception {
    String victim = epr.samplePatientIds(1, 91).get(0);
    JsonNode found = JSON.readTree(it.sendDirect("Observation?subject=Patient/" + victim + "&_count=1").body());
    JsonNode obs = found.path("entry").get(0).path("resource");
    String id = obs.path("id").asText();
    JsonNode coding = obs.path("code").path("coding").get(0);
    String code = coding.path("system").asText() + "%7C" + coding.path("code").asText();
    String probe = "Observation?_id=" + id + "&code=" + code;
    String key = UUID.randomUUID().toString();
    String body = observation(key).replace("\"code\":{\"text\":\"sweep 5\"}", "\"code\":{\"text\":\"sweep 9\"},"
        + "\"hasMember\":[{\"reference\":\"PROBE\"}]");
    List<String> written = new java.util.ArrayList<>();
    try {
      java.net.http.HttpClient direct = java.net.http.HttpClient.newHttpClient();
      for (String criteria : List.of(probe, probe + "-not")) {
        HttpResponse<String> r = direct.send(HttpRequest.newBuilder(java.net.URI.create(epr.baseUrl() + "/Observation"))
            .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(
                body.replace("PROBE", criteria))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(criteria + " at the EPR: " + r.body()).isEqualTo(criteria.equals(probe) ? 201 : 404);
        r.headers().firstValue("Location").ifPresent(written::add);
      }
      assertThat(written).hasSize(1);

      String t = writer();
      refusedBeforeTheEpr(write("POST", "Observation", body.replace("PROBE", probe), t), 403, "conditional-reference");
      refusedBeforeTheEpr(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
          + "\"resource\":" + body.replace("PROBE", probe) + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}",
          t), 403, "conditional-reference");
      HttpResponse<String> pinned = write("POST", "Observation", body.replace("PROBE", probe + "&subject=Patient/"
          + victim), t);
      assertThat(pinned.statusCode()).as(pinned.body()).isEqualTo(201);
      pinned.headers().firstValue("Location").ifPresent(written::add);
      assertThat(pinned.body()).contains("\"reference\":\"Observation/" + id + "\"");
      assertThat(it.awaitAuditLine(pinned.headers().firstValue("X-Request-Id").orElseThrow()))
          .as("the patient the reference names").contains("\"reference\":\"Patient/" + victim + "\"");
    } finally {
      deleteAtTheEpr(written);
    }
  }

  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Adversarial sweep 9: HAPI FHIR resolves the conditional references of a written resource in turn and stops at the
   * first that matches nothing, naming it ("HAPI-1091: Invalid match URL \"...\" - No resources match this search").
   * With a probe first ({@code Patient?identifier=<MRN>&birthdate=<guess>}) and a reference that matches nothing
   * after it, the 404's words told whether the probe matched, so a patient's birth date, and nobody was charged. The
   * two answers must not differ.
   */
  @Test
  void whichOfTwoConditionalReferencesMatchedNothingIsNotTold() throws Exception {
    String victim = epr.samplePatientIds(1, 92).get(0);
    JsonNode record = JSON.readTree(it.sendDirect("Patient/" + victim).body());
    String mrn = null;
    for (JsonNode id : record.path("identifier")) {
      if (id.path("system").asText().endsWith("/mrn")) {
        mrn = id.path("system").asText() + "|" + id.path("value").asText();
      }
    }
    assertThat(mrn).isNotNull();
    String none = "Practitioner?identifier=urn:sweep9|none-" + UUID.randomUUID();
    String t = writer();
    List<String> answers = new java.util.ArrayList<>();
    for (String birthDate : List.of(record.path("birthDate").asText(), "1900-01-01")) {
      String probe = "Patient?identifier=" + mrn + "&birthdate=" + birthDate;
      String body = observation("sweep9").replace("Patient/" + patient, probe).replace("\"code\":{\"text\":\"sweep 5\"}",
          "\"code\":{\"text\":\"sweep 9\"},\"performer\":[{\"reference\":\"" + none + "\"}]");
      HttpResponse<String> r = write("POST", "Observation", body, t);
      ItEnvironment.assertOperationOutcome(r, 404);
      answers.add(r.body());
    }
    assertThat(answers.get(0)).as("a match of the probe, then none").isEqualTo(answers.get(1))
        .doesNotContain("identifier");
  }

  @Test
  void aConditionalDeleteMustNameItsPatient() throws Exception {
    String t = writer();
    String key = UUID.randomUUID().toString();
    assertThat(write("POST", "Observation", observation(key), t).statusCode()).isEqualTo(201);
    refusedBeforeTheEpr(write("DELETE", "Observation?identifier=urn:sweep5%7C" + key, null, t), 403, "conditional-delete");
    HttpResponse<String> named = write("DELETE", "Observation?subject=Patient/" + patient + "&identifier=urn:sweep5%7C" + key,
        null, t);
    assertThat(named.statusCode()).as(named.body()).isEqualTo(200);
    String line = it.awaitAuditLine(named.headers().firstValue("X-Request-Id").orElseThrow());
    assertThat(line).as("the named patient is charged").contains("\"reference\":\"Patient/" + patient + "\"");
    HttpResponse<String> gone = it.sendDirect("Observation?identifier=urn:sweep5%7C" + key);
    assertThat(gone.body()).as("deleted").contains("\"resourceType\":\"Bundle\"").doesNotContain("\"resourceType\":\"Observation\"");
  }

  void refusedBeforeTheEpr(HttpResponse<String> r, int status, String rule) throws Exception {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    ItEnvironment.assertOperationOutcome(r, status);
    assertThat(log.received(id)).as("the EPR saw " + r.request().uri()).isFalse();
    if (rule != null) {
      assertThat(it.awaitAuditLine(id)).contains(rule);
    }
  }
}
