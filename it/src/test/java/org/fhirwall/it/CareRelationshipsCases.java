package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Explained and unexplained access through the real proxy: a clinician's own patients (in a care
 * relationship the EPR records) are explained and charged only to the role's ordinary limit; strangers'
 * records are cut off after the role's unexplained limit (3 a day here); relationships come only from
 * fhirwall's own queries, never from what a response shows; one written through fhirwall is audited and
 * explains nobody before the write delay; without its relationships nobody is explained. Run against the
 * demo EPR ({@link CareRelationshipsIT}) and the HAPI FHIR JPA server ({@link CareRelationshipsJpaIT}).
 */
abstract class CareRelationshipsCases {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int UNEXPLAINED_MAX = 3;

  /** fhirwall with relationships, in front of the EPR, whose relationships of {@link #practitioner()} have stood long enough. */
  abstract ItEnvironment it();

  /** The clinician ({@code Practitioner/ID}) the EPR holds care relationships of. */
  abstract String practitioner();

  /** At least five of the clinician's patients (ids), each by a different kind of relationship where the EPR has them. */
  abstract List<String> ownPatients();

  /** Patients (ids) in no relationship of the clinician's, at least twelve. */
  abstract List<String> strangers();

  /** A patient (id) with a finished encounter of the clinician's: the response shows her, yet it is no relationship. */
  abstract String formerPatient();

  String token(ItEnvironment env, String who) {
    return env.tokenWithFhirUser(who + "-" + UUID.randomUUID(), practitioner(), "attending");
  }

  @Test
  void ownPatientsAreExplainedAndStrangersAreCutOffAfterTheUnexplainedLimitWhileOwnPatientsStayOpen() throws Exception {
    String token = token(it(), "clinician");
    for (String own : ownPatients()) {
      HttpResponse<String> r = it().get("Patient/" + own, token);
      assertThat(r.statusCode()).as(own + ": " + r.body()).isEqualTo(200);
      assertThat(careOf(it(), r, "Patient/" + own)).as(own).startsWith("explained by ");
    }
    List<String> strangers = strangers();
    for (int i = 0; i < UNEXPLAINED_MAX; i++) {
      HttpResponse<String> r = it().get("Patient/" + strangers.get(i), token);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(careOf(it(), r, "Patient/" + strangers.get(i))).isEqualTo("unexplained");
    }
    HttpResponse<String> cut = it().get("Patient/" + strangers.get(UNEXPLAINED_MAX), token);
    ItEnvironment.assertOperationOutcome(cut, 429);
    assertThat(cut.body()).contains("outside the principal's care relationships");
    assertThat(cut.body()).doesNotContain(strangers.get(UNEXPLAINED_MAX));
    // far from the role's overall limit (50 an hour), and her own patients are still hers to read
    HttpResponse<String> again = it().get("Patient/" + ownPatients().get(0), token);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    HttpResponse<String> search = it().get("Observation?subject=Patient/" + ownPatients().get(1) + "&_count=5", token);
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
  }

  @Test
  void aResponseShowingTheClinicianOnAStrangersRecordExplainsNobody() throws Exception {
    String token = token(it(), "launder");
    HttpResponse<String> r = it().get("Encounter?subject=Patient/" + formerPatient() + "&_count=20", token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains(practitioner());
    assertThat(careOf(it(), r, "Patient/" + formerPatient())).isEqualTo("unexplained");
  }

  @Test
  void aRelationshipWrittenThroughFhirwallIsAuditedAndExplainsNobodyBeforeTheWriteDelay() throws Exception {
    try (ItEnvironment strict = it().anotherFhirwall(Clock.systemUTC(), "relationships:\n  write-delay: 1h\n")) {
      String stranger = strangers().get(10);
      String writer = token(strict, "writer");
      // the writer's session has learned its relationships before it writes (as at any write but a session's first),
      // so the EPR has answered the lookup's searches once before the Encounter exists
      HttpResponse<String> before = strict.get("Patient/" + strangers().get(11), writer);
      assertThat(before.statusCode()).as(before.body()).isEqualTo(200);
      assertThat(careOf(strict, before, "Patient/" + strangers().get(11))).isEqualTo("unexplained");
      String encounter = "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
          + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/"
          + stranger + "\"},\"participant\":[{\"individual\":{\"reference\":\"" + practitioner() + "\"}}]}";
      HttpResponse<String> created = strict.send(HttpRequest.newBuilder(strict.uri("Encounter"))
          .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(encounter)), writer);
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String change = strict.awaitAuditLine("relationship-change");
      assertThat(change).contains("create Encounter/").contains("write-delay");

      // a session whose relationships are learned after the write: the new encounter is found (not hidden by an answer
      // the EPR kept from the writer's lookup), and does not count yet
      HttpResponse<String> read = strict.get("Patient/" + stranger, token(strict, "reader"));
      assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
      assertThat(careOf(strict, read, "Patient/" + stranger)).isEqualTo("unexplained");
      assertThat(strict.awaitAuditLine(requestId(read))).contains("changed recently");
    }
  }

  @Test
  void whenTheRelationshipsCannotBeLearnedEveryPatientIsUnexplained() throws Exception {
    try (ItEnvironment broken = it().anotherFhirwall(Clock.systemUTC(), """
        relationships:
          searches:
            - {name: broken, query: "NoSuchType?participant={practitioner}", patient-element: subject}
        """)) {
      String token = token(broken, "failclosed");
      List<String> own = ownPatients();
      for (int i = 0; i < UNEXPLAINED_MAX; i++) {
        HttpResponse<String> r = broken.get("Patient/" + own.get(i), token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(careOf(broken, r, "Patient/" + own.get(i))).isEqualTo("unexplained");
        assertThat(broken.awaitAuditLine(requestId(r))).contains("care relationships unavailable");
      }
      ItEnvironment.assertOperationOutcome(broken.get("Patient/" + own.get(UNEXPLAINED_MAX), token), 429);
    }
  }

  // --- the audit trail ----------------------------------------------------------------------------

  static String requestId(HttpResponse<String> r) {
    return r.headers().firstValue("X-Request-Id").orElseThrow();
  }

  /** "explained by RELATIONSHIP" or "unexplained": what the audit record of {@code r} says of {@code patient}. */
  static String careOf(ItEnvironment env, HttpResponse<String> r, String patient) throws Exception {
    JsonNode event = JSON.readTree(env.awaitAuditLine("\"" + requestId(r) + "\""));
    for (JsonNode entity : event.path("entity")) {
      if (patient.equals(entity.path("what").path("reference").asText())) {
        String care = null;
        String by = null;
        for (JsonNode d : entity.path("detail")) {
          if (d.path("type").asText().equals("care-relationship")) {
            care = d.path("valueString").asText();
          } else if (d.path("type").asText().equals("explained-by")) {
            by = d.path("valueString").asText();
          }
        }
        assertThat(care).as("care-relationship of " + patient + " in " + event).isNotNull();
        return care.equals("explained") ? "explained by " + by : care;
      }
    }
    throw new AssertionError(patient + " is not among the audited patients of " + event);
  }
}
