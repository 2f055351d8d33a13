package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} on the admin port of a running fhirwall, after real traffic: the requests,
 * their outcomes and the patients disclosed are counted, nothing about a patient or a principal
 * leaks into the metrics, and every metric the shipped Grafana dashboard queries is served.
 */
class MetricsIT {
  static final Path DOCKER = Path.of(System.getProperty("fhirwall.docker.dir", "../docker"));
  static ItEnvironment it;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(200);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  static String scrape() throws Exception {
    InetSocketAddress admin = it.env.fhirwall().adminAddress();
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + admin.getPort() + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    return r.body();
  }

  @Test
  void trafficIsCountedAndNoPatientOrPrincipalLeaks() throws Exception {
    String token = it.token("metrics-user", "physician");
    List<String> ids = it.env.store().samplePatientIds(3, 9);
    for (String id : ids) {
      assertThat(it.get("Patient/" + id, token).statusCode()).isEqualTo(200);
    }
    assertThat(it.get("Binary/x", it.token("metrics-reader", "limited")).statusCode()).isEqualTo(403);
    String metrics = scrape();
    assertThat(metrics).contains("fhirwall_requests_total{interaction=\"read\",outcome=\"allowed\",rule=\"\",status=\"200\"}")
        .contains("outcome=\"refused\",rule=\"resource-types\",status=\"403\"")
        .contains("fhirwall_patients_disclosed_total")
        .contains("fhirwall_epr_duration_seconds_bucket")
        .contains("resilience4j_circuitbreaker_state");
    for (String id : ids) {
      assertThat(metrics).doesNotContain(id);
    }
    assertThat(metrics).doesNotContain("metrics-user").doesNotContain("sub-metrics");
  }

  @Test
  void everyMetricTheDashboardQueriesIsServed() throws Exception {
    HttpResponse<String> read = it.get("Patient/" + it.env.store().samplePatientIds(1, 3).get(0), it.token("dash-user", "physician"));
    assertThat(read.statusCode()).as("a read that discloses a patient: %s", read.body()).isEqualTo(200);
    JsonNode dashboard = new ObjectMapper().readTree(DOCKER.resolve("grafana/fhirwall.json").toFile());
    Set<String> queried = new TreeSet<>();
    Pattern name = Pattern.compile("\\b((?:fhirwall|resilience4j|jvm|netty|process)_[a-z_]+)");
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        Matcher m = name.matcher(target.path("expr").asText());
        while (m.find()) {
          queried.add(m.group(1).replaceAll("_(bucket|count|sum)$", ""));
        }
      }
    }
    assertThat(queried).hasSizeGreaterThan(10);
    String metrics = scrape();
    for (String metric : queried) {
      assertThat(metrics).as("the dashboard queries %s", metric).containsPattern("(?m)^" + metric + "(_bucket|_count|_sum)?[{ ]");
    }
  }
}
