package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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
 * Attacks on the at-limit hold (adversarial probe 11), against HAPI FHIR's JPA server: a principal of the
 * {@code counted} role (refuse at 25 patients an hour) whose window is full may still send requests that name only
 * patients it has been charged for. Such a request must not be able to ask about anyone else: else 429 (its answer
 * held a patient not counted, refused, nothing charged) against 200 tells, for free and without end, what the
 * sweep-10 oracle told. The synthetic data's Group g2 holds p2..p11; the tests count p2 and none of p3..p11.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AtLimitHoldProbeJpaIT {
  static final HttpClient DIRECT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final int LIMIT = 25;
  static final String MRN = "https://epr.demo.fhirwall.org/mrn|";
  ItEnvironment it;
  EprRequestLog log;
  /** p2 (a member of g2) and 24 patients outside g2: the window that fills it. */
  List<String> counted;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    counted = new ArrayList<>(List.of("p2"));
    for (int i = 100; counted.size() < LIMIT; i++) {
      counted.add("p" + i);
    }
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  static String mrn(int i) {
    String digits = Integer.toString(i);
    return URLEncoder.encode(MRN + "MRN" + "0000000".substring(digits.length()) + digits, StandardCharsets.UTF_8);
  }

  /** A principal of the counted role whose window holds {@link #counted}: full. */
  String fullPrincipal() throws Exception {
    String token = it.token("hold-probe-" + UUID.randomUUID(), "counted");
    HttpResponse<String> fill = it.get("Patient?_id=" + String.join(",", counted) + "&_count=" + LIMIT, token);
    assertThat(fill.statusCode()).as(fill.body()).isEqualTo(200);
    assertThat(DisclosedPatients.in(fill)).as("the window is full").hasSize(LIMIT);
    return token;
  }

  /** Both answers are the hold's 429, and the EPR heard neither question. */
  void heldBeforeTheEpr(HttpResponse<String> yes, HttpResponse<String> no) throws Exception {
    assertThat(List.of(seen(yes), seen(no))).as("what the EPR saw and the client got").containsOnly("429, EPR not asked");
    for (HttpResponse<String> r : List.of(yes, no)) {
      ItEnvironment.assertOperationOutcome(r, 429);
      assertThat(it.auditLineOf(r)).contains("held:patient-limit:1h");
    }
  }

  String seen(HttpResponse<String> r) {
    boolean asked = log.received(r.headers().firstValue("X-Request-Id").orElseThrow());
    return r.statusCode() + ", EPR " + (asked ? "asked: " + r.request().uri().getRawPath() + "?" + r.request().uri().getRawQuery()
        : "not asked");
  }

  @Test
  void aGroupOfACountedPatientChainedToAnotherMemberIsHeld() throws Exception {
    String token = fullPrincipal();
    // is MRN 7 (p7) in p2's group? 429: g2 (p3..p11 not counted) came back; 200: nothing came back
    heldBeforeTheEpr(it.get("Group?member=Patient/p2&member.identifier=" + mrn(7), token),
        it.get("Group?member=Patient/p2&member.identifier=" + mrn(150), token));
    heldBeforeTheEpr(it.get("Patient/p2/Group?member.identifier=" + mrn(7), token),
        it.get("Patient/p2/Group?member.identifier=" + mrn(150), token));
  }

  @Test
  void anotherPatientsRecordThatACountedPatientTakesPartInIsHeld() throws Exception {
    // p150 (not counted) has an observation that p2 performed, value 42
    String id = "probe11-" + UUID.randomUUID().toString().substring(0, 8);
    putDirect("Observation/" + id, """
        {"resourceType":"Observation","id":"%s","status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
         "subject":{"reference":"Patient/p150"},"performer":[{"reference":"Patient/p2"}],
         "valueQuantity":{"value":42,"unit":"kg"}}""".formatted(id));
    try {
      String token = fullPrincipal();
      heldBeforeTheEpr(it.get("Observation?performer=Patient/p2&value-quantity=gt41", token),
          it.get("Observation?performer=Patient/p2&value-quantity=gt43", token));
      heldBeforeTheEpr(it.get("Patient/p2/Observation?value-quantity=gt41", token),
          it.get("Patient/p2/Observation?value-quantity=gt43", token));
      // $everything holds what references p2, so the observation of p150's
      heldBeforeTheEpr(it.get("Patient/p2/$everything?_type=Observation", token),
          it.get("Patient/p2/$everything?_type=Condition", token));
    } finally {
      deleteDirect("Observation/" + id);
    }
  }

  @Test
  void aCountedPatientChosenByAnotherPatientsRecordIsHeld() throws Exception {
    // p2's own record, chosen by the birth date of a patient whose record links to it: the answer shows p2 or nothing,
    // but tells of the other (HAPI JPA knows no Patient/p2/Patient compartment search: 400). No patient is written
    // here: a Patient deleted from the shared server takes a version from suites that page through Patient/_history.
    String token = fullPrincipal();
    // the reverse chain through another patient's record is refused whatever the window (SearchCheck.othersBehind)
    for (String date : List.of("1961-04-05", "1961-04-06")) {
      HttpResponse<String> r = it.get("Patient?_id=p2&_has:Patient:link:birthdate=" + date, token);
      assertThat(seen(r)).isEqualTo("403, EPR not asked");
      assertThat(it.auditLineOf(r)).contains("search-has");
    }
    heldBeforeTheEpr(it.get("Patient?_id=p2&link.birthdate=1961-04-05", token),
        it.get("Patient?_id=p2&link.birthdate=1961-04-06", token));
  }

  @Test
  void aClinicianAtTheLimitStillReadsWhatItWasChargedFor() throws Exception {
    String token = fullPrincipal();
    for (String path : List.of("Patient/p2", "Patient/p100/_history", "Patient?_id=p2,p100&gender=female,male,other,unknown",
        "Observation?patient=p2&_count=5", "Observation?subject=Patient/p101&code:missing=false",
        "Condition?patient=Patient/p102&_sort=-_lastUpdated", "Encounter?patient=p103&date=ge2019-01-01")) {
      HttpResponse<String> r = it.get(path, token);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
      assertThat(DisclosedPatients.in(r)).as(path).isSubsetOf(counted.stream().map(p -> "Patient/" + p).toList());
    }
  }

  void putDirect(String path, String body) throws Exception {
    HttpResponse<String> r = DIRECT.send(HttpRequest.newBuilder(URI.create(it.eprBase() + "/" + path))
        .header("Content-Type", "application/fhir+json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  void deleteDirect(String path) throws Exception {
    HttpResponse<String> r = DIRECT.send(HttpRequest.newBuilder(URI.create(it.eprBase() + "/" + path)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 204);
  }
}
