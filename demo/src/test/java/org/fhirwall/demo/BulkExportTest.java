package org.fhirwall.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * FHIR Bulk Data export on the demo EPR over plain HTTP, as a bulk client (or fhirwall in front)
 * sees it: kick-off, poll, manifest, NDJSON downloads, cancel. Against a 300-patient hospital.
 */
class BulkExportTest {

  private static final int PATIENTS = 300;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final IParser PARSER = FhirContext.forR4Cached().newJsonParser();
  private static DemoStore store;
  private static DemoFhirServer server;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    store = DemoStore.of(SyntheticData.generate(11, PATIENTS), Clock.fixed(Instant.parse("2025-06-01T08:00:00Z"),
        ZoneOffset.UTC));
    server = DemoFhirServer.start(store, 0);
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void kickOffWithoutPreferRespondAsyncIsRefused() throws Exception {
    HttpResponse<String> refused = get("/$export?_type=Patient", Map.of("Accept", "application/fhir+json"));

    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.headers().firstValue("Content-Location")).isEmpty();
    assertThat(refused.body()).contains("\"resourceType\":\"OperationOutcome\"").contains("Prefer: respond-async");
  }

  @Test
  void systemExportKicksOffPollsAndServesNdjsonFiles() throws Exception {
    HttpResponse<String> kickOff = kickOff("/$export?_type=Patient,Observation");
    assertThat(kickOff.statusCode()).isEqualTo(202);
    String poll = kickOff.headers().firstValue("Content-Location").orElseThrow();
    assertThat(poll).matches(java.util.regex.Pattern.quote(server.baseUrl() + "/$export-poll-status?_jobId=")
        + "[0-9a-f-]{36}");
    assertThat(kickOff.body()).satisfiesAnyOf(b -> assertThat(b).isEmpty(), b -> assertThat(b).contains("\"OperationOutcome\""));

    HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create(poll)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(first.statusCode()).isEqualTo(202);
    assertThat(first.headers().firstValue("X-Progress")).hasValue("in progress");
    assertThat(first.headers().firstValue("Retry-After")).hasValue("1");

    HttpResponse<String> done = pollUntilDone(poll);
    assertThat(done.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("application/json"));
    JsonNode manifest = JSON.readTree(done.body());
    assertThat(manifest.path("transactionTime").asText()).isEqualTo("2025-06-01T08:00:00Z");
    assertThat(manifest.path("request").asText()).isEqualTo(server.baseUrl() + "/$export?_type=Patient,Observation");
    assertThat(manifest.path("requiresAccessToken").asBoolean()).isTrue();
    assertThat(manifest.path("error").isArray()).isTrue();
    assertThat(manifest.path("error")).isEmpty();

    Map<String, List<Resource>> exported = new LinkedHashMap<>();
    for (JsonNode file : manifest.path("output")) {
      String type = file.path("type").asText();
      String url = file.path("url").asText();
      assertThat(url).startsWith(server.baseUrl() + "/Binary/");
      HttpResponse<String> download = http.send(HttpRequest.newBuilder(URI.create(url))
          .header("Accept", "application/fhir+ndjson").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(download.statusCode()).isEqualTo(200);
      assertThat(download.headers().firstValue("Content-Type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("application/fhir+ndjson"));
      List<Resource> resources = ndjson(download.body());
      assertThat(resources).hasSize(file.path("count").asInt()).allSatisfy(r -> assertThat(r.fhirType()).isEqualTo(type));
      exported.computeIfAbsent(type, t -> new ArrayList<>()).addAll(resources);
    }
    assertThat(exported).containsOnlyKeys("Patient", "Observation");
    assertThat(exported.get("Patient")).hasSize(store.count("Patient")).hasSize(PATIENTS);
    assertThat(exported.get("Observation")).hasSize(store.count("Observation"));
    assertThat(ids(exported.get("Patient"))).hasSize(PATIENTS);
  }

  @Test
  void groupExportHoldsOnlyTheGroupsMembersAndTheirRecords() throws Exception {
    Group group = (Group) store.get("Group", "g2").orElseThrow();
    Set<String> members = new HashSet<>();
    group.getMember().forEach(m -> members.add(m.getEntity().getReferenceElement().getIdPart()));
    assertThat(members).hasSize(10);

    Map<String, List<Resource>> exported = export("/Group/g2/$export?_type=Patient,Condition");

    assertThat(ids(exported.get("Patient"))).isEqualTo(members);
    List<Resource> conditions = exported.getOrDefault("Condition", List.of());
    assertThat(conditions).isNotEmpty().allSatisfy(c -> assertThat(
        ((Condition) c).getSubject().getReferenceElement().getIdPart()).isIn(members));
    long expected = 0;
    for (String member : members) {
      expected += store.search("Condition", Map.of("patient",
          new ca.uhn.fhir.rest.param.ReferenceAndListParam().addAnd(
              new ca.uhn.fhir.rest.param.ReferenceOrListParam().add(
                  new ca.uhn.fhir.rest.param.ReferenceParam("Patient/" + member))))).size();
    }
    assertThat(conditions).hasSize((int) expected);
  }

  @Test
  void patientExportWritesTheDefaultTypesOfEveryPatient() throws Exception {
    Map<String, List<Resource>> exported = export("/Patient/$export");

    assertThat(exported).containsOnlyKeys(BulkExportProvider.DEFAULT_TYPES);
    assertThat(exported.get("Patient")).hasSize(PATIENTS);
    assertThat(exported.get("Observation")).hasSize(store.count("Observation"))
        .allSatisfy(o -> assertThat(((Observation) o).getSubject().getReference()).startsWith("Patient/"));
  }

  @Test
  void binaryReadAsFhirJsonCarriesTheFileAsData() throws Exception {
    JsonNode manifest = JSON.readTree(pollUntilDone(pollUrl(kickOff("/Group/g2/$export?_type=Patient"))).body());
    String url = manifest.path("output").get(0).path("url").asText();

    HttpResponse<String> asJson = http.send(HttpRequest.newBuilder(URI.create(url))
        .header("Accept", "application/fhir+json").build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(asJson.statusCode()).isEqualTo(200);
    assertThat(asJson.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("application/fhir+json"));
    Binary binary = PARSER.parseResource(Binary.class, asJson.body());
    assertThat(binary.getContentType()).isEqualTo("application/fhir+ndjson");
    assertThat(binary.getIdElement().getIdPart()).endsWith("-Patient-1");
    assertThat(new String(binary.getData(), StandardCharsets.UTF_8)).isEqualTo(raw.body());
    assertThat(raw.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("application/fhir+ndjson"));
    assertThat(ndjson(raw.body())).hasSize(10);
    assertThat(Base64.getDecoder().decode(JSON.readTree(asJson.body()).path("data").asText()))
        .isEqualTo(raw.body().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void cancellingAJobDeletesItsFilesAndForgetsIt() throws Exception {
    String poll = pollUrl(kickOff("/$export?_type=Patient"));
    JsonNode manifest = JSON.readTree(pollUntilDone(poll).body());
    String file = manifest.path("output").get(0).path("url").asText();

    HttpResponse<String> cancelled = http.send(HttpRequest.newBuilder(URI.create(poll)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(cancelled.statusCode()).isEqualTo(202);
    assertThat(http.send(HttpRequest.newBuilder(URI.create(poll)).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode()).isEqualTo(404);
    assertThat(http.send(HttpRequest.newBuilder(URI.create(file)).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode()).isEqualTo(410);
    assertThat(http.send(HttpRequest.newBuilder(URI.create(poll)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
  }

  @Test
  void cancellingBeforeTheFirstPollLeavesNothingToPoll() throws Exception {
    String poll = pollUrl(kickOff("/Patient/$export"));

    assertThat(http.send(HttpRequest.newBuilder(URI.create(poll)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
    HttpResponse<String> gone = http.send(HttpRequest.newBuilder(URI.create(poll)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(gone.body()).contains("\"OperationOutcome\"");
  }

  @Test
  void unknownJobsAndBadKickOffsAreRefused() throws Exception {
    HttpResponse<String> unknown = get("/$export-poll-status?_jobId=no-such-job", Map.of());
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("\"OperationOutcome\"");
    assertThat(get("/$export-poll-status", Map.of()).statusCode()).isEqualTo(400);

    assertThat(kickOff("/$export?_type=Patient,Spaceship").statusCode()).isEqualTo(400);
    assertThat(kickOff("/$export?_type=Binary").statusCode()).isEqualTo(400);
    assertThat(kickOff("/$export?_outputFormat=text/csv").statusCode()).isEqualTo(400);
    assertThat(kickOff("/$export?_typeFilter=Patient%3Fgender%3Dfemale").statusCode()).isEqualTo(400);
    assertThat(kickOff("/Patient/$export?_type=Practitioner").statusCode()).isEqualTo(400);
    assertThat(kickOff("/Group/nope/$export").statusCode()).isEqualTo(404);
    assertThat(kickOff("/$export?_outputFormat=ndjson&_type=Patient").statusCode()).isEqualTo(202);
  }

  @Test
  void sinceAfterEveryChangeExportsNothing() throws Exception {
    JsonNode manifest = JSON.readTree(pollUntilDone(pollUrl(kickOff("/$export?_since=2025-06-02T00:00:00Z")))
        .body());

    assertThat(manifest.path("output").isArray()).isTrue();
    assertThat(manifest.path("output")).isEmpty();
  }

  // ---- helpers ----

  private static Map<String, List<Resource>> export(String kickOffPath) throws Exception {
    JsonNode manifest = JSON.readTree(pollUntilDone(pollUrl(kickOff(kickOffPath))).body());
    Map<String, List<Resource>> exported = new LinkedHashMap<>();
    for (JsonNode file : manifest.path("output")) {
      HttpResponse<String> download = http.send(HttpRequest.newBuilder(URI.create(file.path("url").asText()))
          .header("Accept", "application/fhir+ndjson").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(download.statusCode()).isEqualTo(200);
      exported.computeIfAbsent(file.path("type").asText(), t -> new ArrayList<>()).addAll(ndjson(download.body()));
    }
    return exported;
  }

  private static HttpResponse<String> kickOff(String path) throws IOException, InterruptedException {
    return get(path, Map.of("Prefer", "respond-async", "Accept", "application/fhir+json"));
  }

  private static String pollUrl(HttpResponse<String> kickOff) {
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    return kickOff.headers().firstValue("Content-Location").orElseThrow();
  }

  /** Polls as a client would (without honouring Retry-After's second, to keep the test short). */
  private static HttpResponse<String> pollUntilDone(String poll) throws IOException, InterruptedException {
    for (int attempt = 0; attempt < 500; attempt++) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(poll)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 202) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("export did not complete: " + poll);
  }

  private static HttpResponse<String> get(String path, Map<String, String> headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.baseUrl() + path));
    headers.forEach(request::header);
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static List<Resource> ndjson(String body) {
    List<Resource> resources = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (!line.isBlank()) {
        resources.add((Resource) PARSER.parseResource(line));
      }
    }
    return resources;
  }

  private static Set<String> ids(List<Resource> resources) {
    Set<String> ids = new HashSet<>();
    resources.forEach(r -> ids.add(r.getIdElement().getIdPart()));
    return ids;
  }
}
