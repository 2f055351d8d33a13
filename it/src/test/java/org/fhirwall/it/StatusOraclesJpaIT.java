package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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
 * Status codes, headers and error bodies as oracles, against HAPI FHIR's JPA server (adversarial sweep 8): an answer
 * that tells of a patient without showing the patient's record (an error's words, a failed patch) must charge that
 * patient like a record shown.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatusOraclesJpaIT {
  static final HttpClient DIRECT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final ObjectMapper JSON = new ObjectMapper();
  ItEnvironment it;
  EprRequestLog log;
  /** A patient of the EPR: id, MRN (system|value), birth date; and the id of one of its observations. */
  String patient;
  String mrn;
  String birthDate;
  String observation;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    patient = epr.samplePatientIds(1, 88).get(0);
    JsonNode record = JSON.readTree(it.sendDirect("Patient/" + patient).body());
    birthDate = record.path("birthDate").asText();
    for (JsonNode id : record.path("identifier")) {
      if (id.path("system").asText().endsWith("/mrn")) {
        mrn = id.path("system").asText() + "|" + id.path("value").asText();
      }
    }
    JsonNode obs = JSON.readTree(it.sendDirect("Observation?subject=Patient/" + patient + "&_count=1").body());
    observation = obs.path("entry").get(0).path("resource").path("id").asText();
    assertThat(mrn).isNotNull();
    assertThat(birthDate).isNotEmpty();
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  HttpResponse<String> write(String method, String path, String body, String token, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(it.uri(path));
    if (body != null) {
      b.header("Content-Type", headers.length > 0 && headers[0].equals("Content-Type") ? headers[1] : "application/fhir+json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      if (!headers[i].equals("Content-Type")) {
        b.header(headers[i], headers[i + 1]);
      }
    }
    return it.send(b, token);
  }

  /**
   * Deletes a record straight at the EPR: what a test wrote into the shared server goes again (other suites count the
   * patients and their records).
   */
  void deleteDirect(String path) throws Exception {
    HttpResponse<String> r = DIRECT.send(HttpRequest.newBuilder(URI.create(it.eprBase() + "/" + path))
        .header("Accept", "application/fhir+json").DELETE().timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isLessThan(300);
  }

  /**
   * HAPI FHIR refuses to delete a record others refer to (409) and names the first that does: "First reference found
   * was resource Patient/X in path Patient.managingOrganization". That patient, and whose organization it is, was
   * told uncharged (for a role that may delete), alone and as a batch entry's outcome. The organizations tried are
   * ones patients refer to (so the EPR refuses every delete: nothing in the shared server changes); the first whose
   * refusal names a patient is the case.
   */
  @Test
  void aConflictThatNamesAReferringPatientChargesThatPatient() throws Exception {
    java.util.regex.Pattern named = java.util.regex.Pattern.compile("First reference found was resource Patient/([A-Za-z0-9.-]+)");
    JsonNode orgs = JSON.readTree(it.sendDirect("Organization?_count=20&_elements=id").body());
    String org = null;
    String patient = null;
    HttpResponse<String> r = null;
    for (JsonNode e : orgs.path("entry")) {
      String id = e.path("resource").path("id").asText();
      if (JSON.readTree(it.sendDirect("Patient?organization=Organization/" + id + "&_count=1&_elements=id").body())
          .path("entry").isEmpty()) {
        continue; // nobody refers to it: a delete would go through
      }
      r = write("DELETE", "Organization/" + id, null, it.token("conflict-" + UUID.randomUUID(), "physician"));
      ItEnvironment.assertOperationOutcome(r, 409);
      java.util.regex.Matcher m = named.matcher(r.body());
      if (m.find()) {
        org = id;
        patient = m.group(1);
        break;
      }
    }
    assertThat(patient).as("an organization whose refused delete names a patient").isNotNull();
    assertThat(it.auditLineOf(r)).as("the patient the outcome names is charged").contains("\"reference\":\"Patient/" + patient + "\"");

    String other = it.token("conflict-" + UUID.randomUUID(), "physician");
    HttpResponse<String> batch = write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{"
        + "\"request\":{\"method\":\"DELETE\",\"url\":\"Organization/" + org + "\"}}]}", other);
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(batch.body()).contains("409").contains("Patient/" + patient);
    assertThat(it.auditLineOf(batch)).as("a batch entry's outcome, likewise").contains("\"reference\":\"Patient/" + patient + "\"");
  }

  /**
   * A conditional update answers with what it wrote: 200 (a record matched and was replaced) rather than 400 ("did not
   * satisfy the conditional URL": none matched, and the body does not match the criteria) told that
   * {@code Observation?_id=<id>&code=<code>} matched, and the patient whose record it was (the answer no longer names
   * them) was not charged. A conditional update of a type that holds patients' records must name the patient now;
   * one of Patient's own still works (its answer shows the patient it matched).
   */
  @Test
  void aConditionalUpdateOfAPatientsRecordMustNameThePatient() throws Exception {
    JsonNode obs = JSON.readTree(it.sendDirect("Observation/" + observation).body());
    String code = obs.path("code").path("coding").get(0).path("system").asText() + "%7C"
        + obs.path("code").path("coding").get(0).path("code").asText();
    String replacement = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"sweep 8\"}}";
    String t = it.token("updater-" + UUID.randomUUID(), "physician");
    refusedBeforeTheEpr(write("PUT", "Observation?_id=" + observation + "&code=" + code, replacement, t), 403,
        "conditional-update");
    String key = UUID.randomUUID().toString();
    String mine = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"sweep 8\"},\"identifier\":"
        + "[{\"system\":\"urn:sweep8\",\"value\":\"" + key + "\"}],\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
    HttpResponse<String> upsert = write("PUT", "Observation?identifier=urn:sweep8%7C" + key + "&subject=Patient/" + patient,
        mine, t);
    assertThat(upsert.statusCode()).as("an upsert that names its patient: " + upsert.body()).isEqualTo(201);
    HttpResponse<String> again = write("PUT", "Observation?identifier=urn:sweep8%7C" + key + "&subject=Patient/" + patient,
        mine, t);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(it.auditLineOf(again)).contains("\"reference\":\"Patient/" + patient + "\"");
    deleteDirect("Observation?identifier=urn:sweep8%7C" + key);
  }

  /**
   * An answer about a patient the request names is charged even when it shows nothing (an empty page tells "this
   * patient has no such record"): {@code subject=Patient/X} named X, but a bare id on a reference parameter that can
   * hold a patient ({@code subject=X}, which HAPI FHIR resolves to Patient/X as well) named nobody, so for a role
   * without the patient criterion an empty answer told of X for free.
   */
  @Test
  void aBareIdOnAReferenceToAPatientNamesThatPatient() throws Exception {
    String search = "Observation?subject=" + patient + "&code=urn:sweep8%7Cno-such-code";
    assertThat(it.sendDirect("Observation?subject=" + patient).body()).as("HAPI resolves the bare id to the patient")
        .contains("\"reference\":\"Patient/" + patient + "\"");
    HttpResponse<String> r = it.get(search, it.token("bare-" + UUID.randomUUID(), "counted"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).doesNotContain("\"entry\"");
    assertThat(it.auditLineOf(r)).as("the patient the search asked about").contains("\"reference\":\"Patient/" + patient + "\"");
  }

  static final String PATCH = "application/json-patch+json";

  /** A JSON Patch that tests {@code path} for {@code value}, then fails for sure: no patch is ever applied. */
  static String probe(String path, String value) {
    return "[{\"op\":\"test\",\"path\":\"" + path + "\",\"value\":\"" + value + "\"},{\"op\":\"remove\","
        + "\"path\":\"/nothing-here\"}]";
  }

  /**
   * A JSON Patch is applied to what the record held, and HAPI FHIR words a {@code test} that failed ("value differs
   * from expectations") otherwise than the operation after a {@code test} that passed ("no such path in target JSON
   * document"): through fhirwall, {@code PATCH Patient?identifier=<MRN>} told a patient's birth date, and
   * {@code PATCH Observation/<id>} whose record it is, and nobody was charged (for a role that may patch). A patch of a
   * type that holds patients' records must now name the patient of every record it can change (refused before the
   * EPR otherwise); the named patient is charged whatever the answer.
   */
  @Test
  void aPatchThatTestsWhatARecordHoldsMustNameItsPatient() throws Exception {
    String t = it.token("patcher-" + UUID.randomUUID(), "patcher");
    String byMrn = "Patient?identifier=" + java.net.URLEncoder.encode(mrn, java.nio.charset.StandardCharsets.UTF_8);
    refusedBeforeTheEpr(write("PATCH", byMrn, probe("/birthDate", birthDate), t, "Content-Type", PATCH), 403, "patch-unpinned");
    refusedBeforeTheEpr(write("PATCH", "Observation/" + observation, probe("/subject/reference", "Patient/" + patient), t,
        "Content-Type", PATCH), 403, "patch-unpinned");
    String binary = java.util.Base64.getEncoder().encodeToString(probe("/subject/reference", "Patient/" + patient)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    refusedBeforeTheEpr(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Binary\",\"contentType\":\"" + PATCH + "\",\"data\":\"" + binary + "\"},\"request\":"
        + "{\"method\":\"PATCH\",\"url\":\"Observation/" + observation + "\"}}]}", t), 403, "patch-unpinned");

    // named, the oracle is still there (HAPI's two answers differ), but it tells of a patient who is charged
    String other = it.token("patcher-" + UUID.randomUUID(), "patcher");
    for (String value : new String[] {birthDate, "1900-01-01"}) {
      HttpResponse<String> r = write("PATCH", "Patient?_id=" + patient, probe("/birthDate", value), other, "Content-Type", PATCH);
      ItEnvironment.assertOperationOutcome(r, 400);
      assertThat(r.body()).contains(value.equals(birthDate) ? "no such path" : "value differs");
      assertThat(it.auditLineOf(r)).contains("\"reference\":\"Patient/" + patient + "\"");
    }
    HttpResponse<String> pinned = write("PATCH", "Observation?_id=" + observation + "&subject=Patient/" + patient,
        probe("/status", "no-such-status"), other, "Content-Type", PATCH);
    ItEnvironment.assertOperationOutcome(pinned, 400);
    assertThat(it.auditLineOf(pinned)).contains("\"reference\":\"Patient/" + patient + "\"");
  }

  void refusedBeforeTheEpr(HttpResponse<String> r, int status, String rule) throws Exception {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    ItEnvironment.assertOperationOutcome(r, status);
    assertThat(log.received(id)).as("the EPR saw " + r.request().uri()).isFalse();
    assertThat(it.awaitAuditLine(id)).contains(rule);
  }
}
