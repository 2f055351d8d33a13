package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Answers that tell of patients without showing them are charged or withheld, against HAPI FHIR's JPA server (whose
 * answers these shapes were first seen to get past fhirwall uncharged, adversarial sweep 4): a zero {@code _count}
 * written otherwise, a search total inside a batch answer, a conditional create that matched under
 * {@code Prefer: return=minimal}.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CountOraclesJpaIT {
  static final ObjectMapper JSON = new ObjectMapper();
  ItEnvironment it;
  String patient;

  List<String> people;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    patient = epr.samplePatientIds(1, 11).get(0);
    people = epr.samplePatientIds(PAGE + 1, 29);
  }

  /** The counted role's {@code search.max-count}: the page a count is resolved with. */
  static final int PAGE = 25;

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String counted() {
    return it.token("oracle-" + UUID.randomUUID(), "counted");
  }

  HttpRequest.Builder batch(String url) {
    return HttpRequest.newBuilder(it.uri("")).header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
            + "{\"request\":{\"method\":\"GET\",\"url\":\"" + url + "\"}}]}"));
  }

  /**
   * The decoy attack on a resolved count: as many decoy MRNs as a page holds and a target's, {@code _summary=count}.
   * HAPI FHIR matches a page and one more exactly when the target exists; fhirwall refused the count ("more than a
   * page") then, and answered the decoys' count otherwise, so the refusal told of the target and charged nobody new.
   * Now both are refused alike; one decoy fewer, the target's existence fills the page, and is charged.
   */
  @Test
  void aCountOverDecoysTellsOfATargetOnlyByShowingAndChargingIt() throws Exception {
    List<String> mrns = new ArrayList<>();
    for (String id : people) {
      mrns.add(mrn(id));
    }
    String nobody = mrns.get(0).substring(0, mrns.get(0).indexOf('|') + 1) + "no-such-mrn-" + UUID.randomUUID();
    List<String> decoys = mrns.subList(0, PAGE);
    String target = mrns.get(PAGE);
    String targetId = people.get(PAGE);
    HttpResponse<String> exists = it.get(count(decoys, target), counted());
    HttpResponse<String> missing = it.get(count(decoys, nobody), counted());
    ItEnvironment.assertOperationOutcome(exists, 403);
    ItEnvironment.assertOperationOutcome(missing, 403);
    assertThat(exists.body()).isEqualTo(missing.body());

    List<String> fewer = mrns.subList(0, PAGE - 1);
    HttpResponse<String> full = it.get(count(fewer, target), counted());
    ItEnvironment.assertOperationOutcome(full, 403);
    assertThat(it.awaitAuditLine(full.headers().firstValue("X-Request-Id").orElseThrow()))
        .as("the refusal that tells of the target charged it").contains("\"reference\":\"Patient/" + targetId + "\"");
    HttpResponse<String> notFull = it.get(count(fewer, nobody), counted());
    assertThat(notFull.statusCode()).as(notFull.body()).isEqualTo(200);
    assertThat(JSON.readTree(notFull.body()).path("total").asInt()).isEqualTo(PAGE - 1);
  }

  private String count(List<String> decoys, String target) {
    return "Patient?identifier=" + java.net.URLEncoder.encode(String.join(",", decoys) + "," + target,
        java.nio.charset.StandardCharsets.UTF_8) + "&_summary=count";
  }

  private String mrn(String id) throws Exception {
    for (JsonNode i : JSON.readTree(it.sendDirect("Patient/" + id).body()).path("identifier")) {
      if (i.path("system").asText().endsWith("/mrn")) {
        return i.path("system").asText() + "|" + i.path("value").asText();
      }
    }
    throw new AssertionError("Patient/" + id + " has no MRN");
  }

  @Test
  void aZeroCountWrittenOtherwiseIsACountOverEveryMatch() throws Exception {
    for (String zero : new String[] {"0", "00", "-0", "%2B0"}) {
      // each count refused fills a page, charged, and so the window: a principal whose window is full is held
      HttpResponse<String> r = it.get("Patient?gender=female&_count=" + zero, counted());
      ItEnvironment.assertOperationOutcome(r, 403);
      assertThat(r.body()).as(zero).contains("too-costly").doesNotContain("\"total\"");
      HttpResponse<String> inBatch = it.send(batch("Patient?gender=female&_count=" + zero), counted());
      ItEnvironment.assertOperationOutcome(inBatch, 403);
      assertThat(inBatch.body()).as(zero).doesNotContain("\"total\"");
    }
  }

  @Test
  void aBatchAnswerTellsNoTotalOfASearchWhosePagesGoOn() throws Exception {
    HttpResponse<String> r = it.send(batch("Patient?gender=female&_count=1&_total=accurate"), counted());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode searchset = JSON.readTree(r.body()).path("entry").get(0).path("resource");
    assertThat(searchset.path("entry")).hasSize(1);
    assertThat(searchset.path("link").toString()).contains("_fwpage=");
    assertThat(searchset.has("total")).as("the total of matches not shown: " + searchset).isFalse();
  }

  @Test
  void aConditionalCreateThatMatchedChargesThePatientItMatchedWhateverTheClientPrefers() throws Exception {
    JsonNode record = JSON.readTree(it.sendDirect("Patient/" + patient).body());
    String mrn = null;
    for (JsonNode id : record.path("identifier")) {
      if (id.path("system").asText().endsWith("/mrn")) {
        mrn = id.path("system").asText() + "|" + id.path("value").asText();
      }
    }
    assertThat(mrn).as("the sample patient's MRN").isNotNull();
    String writer = it.token("oracle-writer-" + UUID.randomUUID(), "physician");
    for (String prefer : new String[] {"return=minimal", "return=OperationOutcome"}) {
      HttpResponse<String> r = it.send(HttpRequest.newBuilder(it.uri("Patient")).header("Content-Type", "application/fhir+json")
          .header("Prefer", prefer).header("If-None-Exist", "identifier=" + mrn)
          .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}")), writer);
      assertThat(r.statusCode()).as(prefer + ": " + r.body()).isEqualTo(200);
      if (prefer.equals("return=minimal")) {
        assertThat(r.body()).as("no body, as the client asked; the record was fetched and charged all the same").isEmpty();
        assertThat(r.headers().firstValue("Location").orElseThrow()).contains("/Patient/" + patient);
      } else {
        assertThat(r.body()).as("an outcome, as the client asked: not the record, fetched and charged all the same")
            .contains("\"resourceType\":\"OperationOutcome\"").contains("\"severity\":\"information\"")
            .doesNotContain(patient);
        assertThat(r.headers().firstValue("Location").orElseThrow()).contains("/Patient/" + patient);
      }
      String line = it.auditLineOf(r);
      assertThat(line).as("the audit record of " + prefer).contains("\"reference\":\"Patient/" + patient + "\"");
    }
  }
}
