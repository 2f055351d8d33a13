package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
 * The at-limit oracle (adversarial sweep 10), against HAPI FHIR's JPA server: under {@code at-limit.action: refuse}
 * (the {@code counted} role: 25 patients an hour) a principal whose window was full learned a patient's birth date
 * from 429 (an answer held a patient it had not been charged for) against an empty 200, one guess per request, for
 * free and without end. Now it is held before the EPR is asked, whatever the EPR would answer, except for requests
 * that name only patients already counted.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AtLimitOracleJpaIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int LIMIT = 25;
  ItEnvironment it;
  EprRequestLog log;
  String target;
  String mrn;
  String birthDate;
  List<String> others;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    List<String> sample = epr.samplePatientIds(LIMIT + 1, 1125);
    target = sample.get(0);
    others = sample.subList(1, LIMIT + 1);
    JsonNode record = JSON.readTree(it.sendDirect("Patient/" + target).body());
    birthDate = record.path("birthDate").asText();
    for (JsonNode id : record.path("identifier")) {
      if (id.path("system").asText().endsWith("/mrn")) {
        mrn = id.path("system").asText() + "|" + id.path("value").asText();
      }
    }
    assertThat(mrn).isNotNull();
    assertThat(birthDate).isNotEmpty();
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String guess(String date) {
    return "Patient?identifier=" + URLEncoder.encode(mrn, StandardCharsets.UTF_8) + "&birthdate=" + date;
  }

  @Test
  void aPrincipalAtItsLimitLearnsNothingFromAGuessAndTheEprIsNotAsked() throws Exception {
    String token = it.token("oracle-" + UUID.randomUUID(), "counted");
    HttpResponse<String> fill = it.get("Patient?_id=" + String.join(",", others) + "&_count=" + LIMIT, token);
    assertThat(fill.statusCode()).as(fill.body()).isEqualTo(200);
    assertThat(DisclosedPatients.in(fill)).as("the window is full").hasSize(LIMIT);

    HttpResponse<String> right = it.get(guess(birthDate), token);
    HttpResponse<String> wrong = it.get(guess("1800-01-01"), token);
    for (HttpResponse<String> r : List.of(right, wrong)) {
      ItEnvironment.assertOperationOutcome(r, 429);
      assertThat(r.body()).contains("only requests that name patients already counted");
      String id = r.headers().firstValue("X-Request-Id").orElseThrow();
      assertThat(log.received(id)).as("the EPR saw " + r.request().uri()).isFalse();
      assertThat(it.auditLineOf(r)).contains("held:patient-limit:1h").doesNotContain("Patient/" + target);
    }
    assertThat(right.headers().firstValue("Retry-After")).isEqualTo(wrong.headers().firstValue("Retry-After"));

    HttpResponse<String> known = it.get("Patient/" + others.get(3), token);
    assertThat(known.statusCode()).as("a patient already counted, named: " + known.body()).isEqualTo(200);
    HttpResponse<String> records = it.get("Observation?subject=Patient/" + others.get(4) + "&_count=5", token);
    assertThat(records.statusCode()).as(records.body()).isEqualTo(200);
    HttpResponse<String> named = it.get("Patient/" + target, token);
    ItEnvironment.assertOperationOutcome(named, 429);
    assertThat(log.received(named.headers().firstValue("X-Request-Id").orElseThrow())).isFalse();
  }

  @Test
  void anAnswerRefusedOverTheLimitHoldsThePrincipal() throws Exception {
    String token = it.token("oracle-" + UUID.randomUUID(), "counted");
    HttpResponse<String> fill = it.get("Patient?_id=" + String.join(",", others.subList(0, LIMIT - 1)), token);
    assertThat(DisclosedPatients.in(fill)).as("one place left").hasSize(LIMIT - 1);
    // two patients not counted where one fits: refused, and nothing counted
    HttpResponse<String> over = it.get("Patient?_id=" + target + "," + others.get(LIMIT - 1), token);
    ItEnvironment.assertOperationOutcome(over, 429);
    assertThat(it.auditLineOf(over)).contains("patient-limit:1h");

    HttpResponse<String> again = it.get(guess(birthDate), token);
    ItEnvironment.assertOperationOutcome(again, 429);
    assertThat(log.received(again.headers().firstValue("X-Request-Id").orElseThrow())).as("held: the EPR is not asked")
        .isFalse();
    assertThat(it.auditLineOf(again)).contains("held:refused-over-limit");
  }
}
