package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What HAPI FHIR's JPA server answers to the care-relationship lookup's exact search
 * ({@code Encounter?participant=Practitioner/ID&status=in-progress&_count=200}, the default {@code encounter}
 * search) right after an Encounter is written, straight to the server, fhirwall nowhere: the premise of
 * {@code Cache-Control: no-cache} on fhirwall's own lookup reads. HAPI keeps a search's results and, for the
 * same search within {@code reuse-cached-search-results-millis} (60 s by default), answers with them again;
 * a search asked before the write then hides the Encounter written since, unless the request says
 * {@code Cache-Control: no-cache}. Each case uses a practitioner of its own, so no other test's searches
 * are reused. (A practitioner the server does not hold matches nothing at all, which is why a premise must
 * write its practitioner first.)
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelationshipSearchCacheJpaIT {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();
  String base;
  String patient;

  @BeforeAll
  void start(JpaEpr epr) {
    base = epr.baseUrl();
    patient = epr.samplePatientIds(1, 4201).get(0);
  }

  @Test
  void withoutAPriorSearchTheEncounterJustWrittenIsFound() throws Exception {
    String practitioner = practitioner(true);
    writeEncounter(practitioner);
    assertThat(lookup(practitioner, false)).containsExactly("Patient/" + patient);
  }

  @Test
  void aSearchAskedBeforeTheWriteIsReusedAndHidesTheEncounterWrittenSince() throws Exception {
    String practitioner = practitioner(true);
    assertThat(lookup(practitioner, false)).isEmpty();
    writeEncounter(practitioner);
    assertThat(lookup(practitioner, false)).as("HAPI's cached search, reused").isEmpty();
    assertThat(lookup(practitioner, true)).as("with Cache-Control: no-cache").containsExactly("Patient/" + patient);
  }

  @Test
  void noCacheFindsTheEncounterWrittenAfterAnEarlierSearch() throws Exception {
    String practitioner = practitioner(true);
    assertThat(lookup(practitioner, true)).isEmpty();
    writeEncounter(practitioner);
    assertThat(lookup(practitioner, true)).containsExactly("Patient/" + patient);
  }

  /**
   * With referential integrity off (as this server loads its data), HAPI stores an Encounter whose participant
   * is no Practitioner it holds, and its search by that participant finds nothing, fresh or not: such a
   * relationship is never learned (fewer relationships, never more). The lookup's practitioner must exist.
   */
  @Test
  void anEncounterWhoseParticipantTheServerDoesNotHoldIsNotFoundByParticipant() throws Exception {
    String practitioner = practitioner(false);
    writeEncounter(practitioner);
    assertThat(lookup(practitioner, true)).isEmpty();
    assertThat(lookup(practitioner, false)).isEmpty();
  }

  /** A new {@code Practitioner/ID}, written to the server when {@code exists}. */
  String practitioner(boolean exists) throws Exception {
    String id = "cache-" + UUID.randomUUID().toString().substring(0, 8);
    if (exists) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/Practitioner/" + id))
          .header("Content-Type", "application/fhir+json")
          .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Practitioner\",\"id\":\"" + id + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    }
    return "Practitioner/" + id;
  }

  void writeEncounter(String practitioner) throws Exception {
    String encounter = "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
        + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/"
        + patient + "\"},\"participant\":[{\"individual\":{\"reference\":\"" + practitioner + "\"}}]}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/Encounter"))
        .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(encounter)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  /** The subjects of the lookup's search, asked as fhirwall asks it, with or without {@code Cache-Control: no-cache}. */
  List<String> lookup(String practitioner, boolean noCache) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/Encounter?participant=" + practitioner
        + "&status=in-progress&_count=200")).header("Accept", "application/fhir+json");
    if (noCache) {
      request.header("Cache-Control", "no-cache");
    }
    HttpResponse<String> r = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> subjects = new ArrayList<>();
    for (JsonNode entry : JSON.readTree(r.body()).path("entry")) {
      subjects.add(entry.path("resource").path("subject").path("reference").asText());
    }
    return subjects;
  }
}
