package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link BulkControlsCases} through fhirwall to the demo's EPR holding 800 patients, and the bulk export the
 * demo's EPR implements to its files (the cancel, in {@link BulkControlsCases}, runs against HAPI JPA's too).
 */
class BulkControlsIT extends BulkControlsCases {
  @BeforeAll
  void start() throws Exception {
    use(ItEnvironment.start(800));
  }

  @Test
  void aClinicianCannotKickOffAnExportButTheBulkServiceAccountCanAndItsFilesAreCounted() throws Exception {
    HttpResponse<String> clinician = it.send(HttpRequest.newBuilder(it.uri("Patient/$export?_type=Patient"))
        .header("Prefer", "respond-async").GET(), strict());
    assertThat(clinician.statusCode()).isEqualTo(403);

    String service = it.issuer().mint(org.fhirwall.demo.DemoIssuer.Claims.builder("research-export", "fhirwall", "research-export")
        .username("service-account-research-export").roles(Set.of("bulk-export")).sid(null).authTime(null).amr(List.of())
        .build());
    HttpResponse<String> kickOff = it.send(HttpRequest.newBuilder(it.uri("$export?_type=Observation"))
        .header("Prefer", "respond-async").GET(), service);
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
    assertThat(status).startsWith(it.proxyBase()).doesNotContain(it.eprBase());

    JsonNode manifest = completedManifest(status, service);
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
            disclosed.addAll(DisclosedPatients.in(line, "application/fhir+json"));
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

  @Test
  void anExportsStatusAndFilesAreOnlyForTheServiceAccountThatKickedItOff() throws Exception {
    String owner = serviceAccount("research-export-" + java.util.UUID.randomUUID());
    String other = serviceAccount("research-export-" + java.util.UUID.randomUUID());
    HttpResponse<String> kickOff = it.send(HttpRequest.newBuilder(it.uri("Group/g2/$export?_type=Patient"))
        .header("Prefer", "respond-async").GET(), owner);
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    String status = kickOff.headers().firstValue("Content-Location").orElseThrow();

    HttpResponse<String> pollByOther = it.get(status, other);
    assertThat(pollByOther.statusCode()).as("another account of the same role polls it").isEqualTo(403);
    assertThat(issueCode(pollByOther)).isEqualTo("forbidden");
    assertThat(pollByOther.body()).contains("not yours");

    JsonNode manifest = completedManifest(status, owner);
    assertThat(it.get(status, other).statusCode()).as("nor its manifest once complete").isEqualTo(403);
    assertThat(manifest.path("output")).isNotEmpty();
    for (JsonNode file : manifest.path("output")) {
      String url = file.path("url").asText();
      HttpResponse<String> byOther = it.send(HttpRequest.newBuilder(it.uri(url)).header("Accept", "application/fhir+ndjson").GET(),
          other);
      assertThat(byOther.statusCode()).as("another account downloads its file").isEqualTo(403);
      assertThat(byOther.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"");
      HttpResponse<String> byOwner = it.send(HttpRequest.newBuilder(it.uri(url)).header("Accept", "application/fhir+ndjson").GET(),
          owner);
      assertThat(byOwner.statusCode()).as(byOwner.body()).isEqualTo(200);
      assertThat(byOwner.body()).contains("\"resourceType\":\"Patient\"");
    }
  }

  /** Polls the export's status URL as {@code token} until its manifest comes (the export completed). */
  private JsonNode completedManifest(String status, String token) throws Exception {
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> poll = it.get(status, token);
      assertThat(poll.statusCode()).as(poll.body()).isIn(200, 202);
      if (poll.statusCode() == 200) {
        return JSON.readTree(poll.body());
      }
      Thread.sleep(Duration.ofMillis(300).toMillis());
    }
    throw new AssertionError("the export did not complete within 50 polls");
  }
}
