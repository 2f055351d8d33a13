package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A count of a patient's {@code $everything}, against HAPI FHIR's JPA server: asked with {@code _count=0}, HAPI answers
 * with the number of resources in the whole server (the patient is named, so fhirwall let the answer through and
 * told the EPR's size); with {@code _summary=count}, with the patient's own. fhirwall forwards the count as
 * {@code _summary=count}, and refuses a count asked in an operation's body.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EverythingCountJpaIT {
  static final ObjectMapper JSON = new ObjectMapper();
  ItEnvironment it;
  String patient;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    patient = epr.samplePatientIds(1, 88).get(0);
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  static long total(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode total = JSON.readTree(r.body()).path("total");
    assertThat(total.isIntegralNumber()).as(r.body()).isTrue();
    return total.asLong();
  }

  @Test
  void aZeroCountOfEverythingTellsThePatientsOwnCountNotTheServers() throws Exception {
    for (String filter : new String[] {"", "&_type=Observation"}) {
      String everything = "Patient/" + patient + "/$everything";
      long own = total(it.sendDirect(everything + "?_summary=count" + filter));
      long server = total(it.sendDirect(everything + "?_count=0" + filter));
      assertThat(server).as("HAPI's answer to _count=0, the case this guards").isGreaterThan(own);
      HttpResponse<String> through = it.get(everything + "?_count=0" + filter, it.token("count-" + filter.length(), "physician"));
      assertThat(total(through)).as(everything + "?_count=0" + filter).isEqualTo(own);
      assertThat(it.auditLineOf(through)).contains("forwarded as _summary=count");
    }
  }

  @Test
  void aCountInAnOperationsBodyIsRefused() throws Exception {
    String body = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_count\",\"valueInteger\":0}]}";
    HttpResponse<String> r = it.send(HttpRequest.newBuilder(it.uri("Patient/" + patient + "/$everything"))
        .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(body)),
        it.token("count-body", "physician"));
    ItEnvironment.assertOperationOutcome(r, 400);
    assertThat(r.body()).contains("_summary=count");
  }
}
