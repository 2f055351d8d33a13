package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
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
 * Chains and reverse chains as oracles, against HAPI FHIR's JPA server (adversarial sweep 10), for a role that allows
 * them ({@code search.chains}, {@code search.has}): a search of a type that holds no patient's records
 * ({@code Practitioner}, {@code Organization}) by a reverse chain through a patient's records answered who treats a
 * patient, or which organization manages them, and the patient was charged nowhere.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReverseChainsJpaIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient DIRECT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  ItEnvironment it;
  EprRequestLog log;
  /** A patient of the EPR with an encounter that names a practitioner; the patient's MRN (system|value). */
  String patient;
  String mrn;
  String encounter;
  String practitioner;
  String organization;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    for (String id : epr.samplePatientIds(20, 101)) {
      JsonNode encounters = JSON.readTree(it.sendDirect("Encounter?subject=Patient/" + id + "&_count=20").body());
      for (JsonNode e : encounters.path("entry")) {
        String who = e.path("resource").path("participant").path(0).path("individual").path("reference").asText();
        if (who.startsWith("Practitioner/")) {
          patient = id;
          encounter = e.path("resource").path("id").asText();
          practitioner = who;
          break;
        }
      }
      if (patient != null) {
        break;
      }
    }
    assertThat(patient).as("a sampled patient with an encounter naming a practitioner").isNotNull();
    JsonNode record = JSON.readTree(it.sendDirect("Patient/" + patient).body());
    organization = record.path("managingOrganization").path("reference").asText();
    for (JsonNode id : record.path("identifier")) {
      if (id.path("system").asText().endsWith("/mrn")) {
        mrn = id.path("system").asText() + "|" + id.path("value").asText();
      }
    }
    assertThat(mrn).isNotNull();
    assertThat(organization).startsWith("Organization/");
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String counted() {
    return it.token("chains-" + UUID.randomUUID(), "counted");
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /**
   * A bare id names a patient at the end of a reverse chain as it does on the parameter alone:
   * {@code Practitioner?_has:Encounter:participant:patient=<id>} answered the patient's practitioner, and
   * {@code Organization?_has:Patient:organization:_id=<id>} the patient's organization, nobody charged; and so does a
   * chain on the patient's {@code _id} ({@code Observation?subject._id=<id>&code=...}, HAPI FHIR's form of
   * {@code subject=<id>}, whose empty answer charged nobody since sweep 8 fixed the bare id).
   */
  @Test
  void aPatientNamedByIdInAChainOrReverseChainIsCharged() throws Exception {
    String treats = "Practitioner?_has:Encounter:participant:patient=" + patient;
    assertThat(it.sendDirect(treats).body()).as("HAPI FHIR answers who treats the patient")
        .contains("\"id\":\"" + practitioner.substring("Practitioner/".length()) + "\"");
    HttpResponse<String> r = it.get(treats, counted());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(it.auditLineOf(r)).as("the patient the reverse chain names").contains("\"reference\":\"Patient/" + patient + "\"");

    String manages = "Organization?_has:Patient:organization:_id=" + patient;
    assertThat(it.sendDirect(manages).body()).contains("\"id\":\"" + organization.substring("Organization/".length()) + "\"");
    r = it.get(manages, counted());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(it.auditLineOf(r)).contains("\"reference\":\"Patient/" + patient + "\"");

    for (String chain : new String[] {"subject._id", "subject:Patient._id", "patient._id"}) {
      r = it.get("Observation?" + chain + "=" + patient + "&code=urn:sweep10%7Cno-such-code", counted());
      assertThat(r.statusCode()).as(chain + ": " + r.body()).isEqualTo(200);
      assertThat(r.body()).doesNotContain("\"entry\"");
      assertThat(it.auditLineOf(r)).as(chain + ": an empty answer about the patient").contains("\"reference\":\"Patient/" + patient + "\"");
    }
  }

  /**
   * A reverse chain from a type that holds no patient's records through a patient's records tells about patients it
   * does not show: {@code Practitioner?_has:Patient:general-practitioner:identifier=<MRN>} answered an MRN's general
   * practitioner, {@code Practitioner?_has:Encounter:participant:_id=<encounter>} who saw the patient of that encounter,
   * uncharged. Such a chain must name the patient now (403 {@code search-has} before the EPR otherwise); a reverse chain
   * in a search of patients (whose answer shows, and charges, them) still works.
   */
  @Test
  void aReverseChainFromRecordsOfNoPatientThroughAPatientsRecordsMustNameThePatient() throws Exception {
    String gp = "Practitioner?_has:Patient:general-practitioner:identifier=" + enc(mrn);
    assertThat(JSON.readTree(it.sendDirect(gp).body()).path("total").asInt()).as("HAPI FHIR answers the MRN's GP").isEqualTo(1);
    refusedBeforeTheEpr(it.get(gp, counted()));
    refusedBeforeTheEpr(it.get("Practitioner?_has:Encounter:participant:_id=" + encounter, counted()));
    refusedBeforeTheEpr(it.get("Organization?_has:Patient:organization:_has:Observation:subject:code=urn:sweep10%7Cx",
        counted()));

    String t = counted();
    HttpResponse<String> patients = it.get("Patient?identifier=" + enc(mrn) + "&_has:Encounter:subject:_id=" + encounter, t);
    assertThat(patients.statusCode()).as(patients.body()).isEqualTo(200);
    assertThat(patients.body()).contains("\"id\":\"" + patient + "\"");
    assertThat(it.auditLineOf(patients)).contains("\"reference\":\"Patient/" + patient + "\"");
  }

  /**
   * A chain through a patient, in a search of a type that holds no patient's records, told about the patient without
   * showing them: {@code Slot?schedule.actor:Patient.identifier=<MRN>} answered the MRN's appointment slots (and
   * {@code ...birthdate=<guess>} a birth date), nobody charged. Refused now (403 {@code search-chains} before the EPR);
   * a chain in a search of patients' records ({@code Encounter?subject:Patient.identifier=<MRN>}) shows and charges
   * the patient, as before.
   */
  @Test
  void aChainFromRecordsOfNoPatientThroughAPatientIsRefused() throws Exception {
    String schedule = createDirect("Schedule", "{\"resourceType\":\"Schedule\",\"active\":true,\"actor\":[{\"reference\":"
        + "\"Patient/" + patient + "\"}]}");
    String slot = createDirect("Slot", "{\"resourceType\":\"Slot\",\"schedule\":{\"reference\":\"Schedule/" + schedule
        + "\"},\"status\":\"free\",\"start\":\"2027-01-04T10:00:00Z\",\"end\":\"2027-01-04T10:30:00Z\"}");
    try {
      String slots = "Slot?schedule.actor:Patient.identifier=" + enc(mrn);
      assertThat(it.sendDirect(slots).body()).as("HAPI FHIR answers the MRN's slots").contains("\"id\":\"" + slot + "\"");
      refusedBeforeTheEpr(it.get(slots, counted()), "search-chains");
      HttpResponse<String> encounters = it.get("Encounter?subject:Patient.identifier=" + enc(mrn), counted());
      assertThat(encounters.statusCode()).as(encounters.body()).isEqualTo(200);
      assertThat(it.auditLineOf(encounters)).contains("\"reference\":\"Patient/" + patient + "\"");
    } finally {
      deleteDirect("Slot/" + slot);
      deleteDirect("Schedule/" + schedule);
    }
  }

  String createDirect(String type, String body) throws Exception {
    HttpResponse<String> r = DIRECT.send(HttpRequest.newBuilder(URI.create(it.eprBase() + "/" + type))
        .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(body))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body()).path("id").asText();
  }

  void deleteDirect(String path) throws Exception {
    HttpResponse<String> r = DIRECT.send(HttpRequest.newBuilder(URI.create(it.eprBase() + "/" + path)).DELETE()
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isLessThan(300);
  }

  void refusedBeforeTheEpr(HttpResponse<String> r) throws Exception {
    refusedBeforeTheEpr(r, "search-has");
  }

  void refusedBeforeTheEpr(HttpResponse<String> r, String rule) throws Exception {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    ItEnvironment.assertOperationOutcome(r, 403);
    assertThat(log.received(id)).as("the EPR saw " + r.request().uri()).isFalse();
    assertThat(it.awaitAuditLine(id)).contains(rule);
  }
}
