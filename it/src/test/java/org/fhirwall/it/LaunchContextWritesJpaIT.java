package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirwall.demo.DemoIssuer;
import org.fhirwall.it.jpa.EprRequestLog;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The last launch-context write gap, against HAPI FHIR's JPA server: an app launched for patient A deleted
 * ({@code DELETE Observation/<B's>}) or overwrote ({@code PUT Observation/<B's>} with a body naming A) patient B's
 * Observation, for what an update or delete by id replaces was known only to the EPR. fhirwall now reads the record
 * first: B's record is refused 403 and only fhirwall's GET reaches the EPR; A's own goes, with {@code If-Match} on the
 * version read, which HAPI honours on a PUT but not on a DELETE (shown directly at the JPA server).
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LaunchContextWritesJpaIT {
  private static final Pattern ID_AND_VERSION = Pattern.compile("Observation/([^/]+)/_history/([^/]+)");

  ItEnvironment it;
  EprRequestLog log;
  JpaEpr epr;
  String a;
  String b;
  final HttpClient direct = HttpClient.newHttpClient();
  final List<String> created = new ArrayList<>();

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    this.epr = epr;
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    List<String> two = epr.samplePatientIds(2, 31);
    a = two.get(0);
    b = two.get(1);
  }

  @AfterEach
  void deleteWhatWasCreated() throws Exception {
    for (String id : created) {
      HttpResponse<String> r = atTheEpr("DELETE", "Observation/" + id, null);
      assertThat(r.statusCode()).as("deleting Observation/" + id + " at the EPR: " + r.body()).isBetween(200, 204);
    }
    created.clear();
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  @Test
  void anAppLaunchedForOnePatientNeitherDeletesNorOverwritesAnothersRecord() throws Exception {
    String token = launchedFor(a);
    String bs = createdAtTheEpr(b);

    HttpResponse<String> deleted = throughFhirwall("DELETE", "Observation/" + bs, null, token);
    refusedAfterARead(deleted, bs);
    HttpResponse<String> overwritten = throughFhirwall("PUT", "Observation/" + bs, observation(bs, a), token);
    refusedAfterARead(overwritten, bs);

    HttpResponse<String> still = atTheEpr("GET", "Observation/" + bs, null);
    assertThat(still.statusCode()).as(still.body()).isEqualTo(200);
    assertThat(still.body()).as("B's record is untouched").contains("Patient/" + b).doesNotContain("Patient/" + a)
        .contains("\"versionId\":\"1\"");
  }

  @Test
  void theContextPatientsOwnRecordIsUpdatedAndDeletedOnTheVersionRead() throws Exception {
    String token = launchedFor(a);
    String as = createdAtTheEpr(a);

    HttpResponse<String> updated = throughFhirwall("PUT", "Observation/" + as, observation(as, a), token);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(methodsSeen(updated)).containsExactly("GET Observation/" + as, "PUT Observation/" + as);

    HttpResponse<String> stale = throughFhirwall("PUT", "Observation/" + as, observation(as, a), token, "If-Match", "W/\"1\"");
    ItEnvironment.assertOperationOutcome(stale, 412);
    assertThat(methodsSeen(stale)).as("answered by fhirwall").containsExactly("GET Observation/" + as);

    HttpResponse<String> deleted = throughFhirwall("DELETE", "Observation/" + as, null, token);
    assertThat(deleted.statusCode()).as(deleted.body()).isBetween(200, 204);
    assertThat(methodsSeen(deleted)).as("the delete goes pinned to the context patient")
        .containsExactly("GET Observation/" + as, "DELETE Observation?_id=" + as + "&patient=Patient%2F" + a);
    created.remove(as);
    HttpResponse<String> gone = atTheEpr("GET", "Observation/" + as, null);
    assertThat(gone.statusCode()).isEqualTo(410);
  }

  /**
   * What makes the write conditional: HAPI FHIR's JPA server (8.8) refuses a PUT whose If-Match is not the record's
   * version (409), but deletes whatever If-Match a DELETE carries. So fhirwall's If-Match closes the race between its
   * read and the write for an update, not for a delete, which fhirwall sends pinned to the context patient instead
   * ({@link #aDeletePinnedToOnePatientDeletesNoRecordOfAnother}); were HAPI to honour If-Match on a delete, this test
   * tells.
   */
  @Test
  void theJpaServerHonoursIfMatchOnAnUpdateButNotOnADelete() throws Exception {
    String as = createdAtTheEpr(a);
    assertThat(atTheEpr("PUT", "Observation/" + as, observation(as, a)).statusCode()).isEqualTo(200);
    assertThat(atTheEpr("GET", "Observation/" + as, null).body()).contains("\"versionId\":\"2\"");

    HttpResponse<String> put = atTheEpr("PUT", "Observation/" + as, observation(as, a), "If-Match", "W/\"1\"");
    assertThat(put.statusCode()).as("a PUT on version 1: " + put.body()).isIn(409, 412);
    assertThat(atTheEpr("GET", "Observation/" + as, null).body()).as("not overwritten").contains("\"versionId\":\"2\"");

    HttpResponse<String> delete = atTheEpr("DELETE", "Observation/" + as, null, "If-Match", "W/\"1\"");
    assertThat(delete.statusCode()).as("a DELETE on version 1 is carried out: " + delete.body()).isEqualTo(200);
    assertThat(atTheEpr("GET", "Observation/" + as, null).statusCode()).as("deleted").isEqualTo(410);
    created.remove(as);
  }

  /**
   * What closes the race for a delete: the form fhirwall sends the context patient's delete in ({@code DELETE
   * Observation?_id=<it>&patient=Patient/<A>}) deletes nothing at HAPI FHIR's JPA server when the record is, by then,
   * another patient's, and deletes it when it is still A's.
   */
  @Test
  void aDeletePinnedToOnePatientDeletesNoRecordOfAnother() throws Exception {
    String bs = createdAtTheEpr(b);
    HttpResponse<String> pinned = atTheEpr("DELETE", "Observation?_id=" + bs + "&patient=Patient%2F" + a, null);
    assertThat(pinned.statusCode()).as(pinned.body()).isLessThan(500);
    assertThat(atTheEpr("GET", "Observation/" + bs, null).statusCode()).as("B's record is still there").isEqualTo(200);

    String as = createdAtTheEpr(a);
    HttpResponse<String> own = atTheEpr("DELETE", "Observation?_id=" + as + "&patient=Patient%2F" + a, null);
    assertThat(own.statusCode()).as(own.body()).isBetween(200, 204);
    assertThat(atTheEpr("GET", "Observation/" + as, null).statusCode()).as("A's record is deleted").isEqualTo(410);
    created.remove(as);
  }

  @Test
  void aRecordThatDoesNotExistIsCreatedByUpdate() throws Exception {
    String token = launchedFor(a);
    String id = "lc-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> put = throughFhirwall("PUT", "Observation/" + id, observation(id, a), token);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    created.add(id);
    assertThat(methodsSeen(put)).containsExactly("GET Observation/" + id, "PUT Observation/" + id);
  }

  private void refusedAfterARead(HttpResponse<String> r, String id) throws Exception {
    ItEnvironment.assertOperationOutcome(r, 403);
    assertThat(r.body()).contains("launch context").doesNotContain("Patient/" + b);
    assertThat(methodsSeen(r)).as("only fhirwall's read reached the EPR").containsExactly("GET Observation/" + id);
    String line = it.auditLineOf(r);
    assertThat(line).contains("smart-patient-context:write").contains("pre-read Observation: another patient's record")
        .as("the pre-read charged nobody").doesNotContain("Patient/" + b);
  }

  private List<String> methodsSeen(HttpResponse<String> r) {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    return log.entries().stream().filter(e -> e.requestId().equals(id)).map(e -> e.method() + " "
        + e.target().substring(e.target().indexOf("Observation"))).toList();
  }

  /** A token of an app launched for {@code patient}, with every patient scope, for a physician signed in with OTP. */
  private String launchedFor(String patient) {
    String user = "launch-" + UUID.randomUUID();
    return it.issuer().mint(new DemoIssuer.Claims("sub-" + user, user, Set.of("physician"), "1", List.of("pwd", "otp"),
        Instant.now().minusSeconds(600), UUID.randomUUID().toString(), "fhirwall", "fhirwall-web", Duration.ofMinutes(20)),
        null, Map.of("patient", patient, "scope", "openid launch/patient patient/*.cruds"));
  }

  /**
   * An Observation of {@code patient}; one with an id is an update, which changes it (HAPI keeps the version of an
   * update that changes nothing).
   */
  private String observation(String id, String patient) {
    return "{\"resourceType\":\"Observation\"" + (id == null ? ",\"status\":\"final\"," : ",\"id\":\"" + id
        + "\",\"status\":\"amended\",\"issued\":\"" + Instant.now() + "\",")
        + "\"code\":{\"text\":\"launch-context pre-read\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
  }

  /** An Observation of {@code patient} written at the JPA server itself (version 1); deleted after the test. */
  private String createdAtTheEpr(String patient) throws Exception {
    HttpResponse<String> r = atTheEpr("POST", "Observation", observation(null, patient));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    Matcher m = ID_AND_VERSION.matcher(r.headers().firstValue("Location").orElseThrow());
    assertThat(m.find()).isTrue();
    created.add(m.group(1));
    return m.group(1);
  }

  private HttpResponse<String> throughFhirwall(String method, String path, String body, String token, String... headers)
      throws Exception {
    return it.send(request(it.uri(path), method, body, headers), token);
  }

  private HttpResponse<String> atTheEpr(String method, String path, String body, String... headers) throws Exception {
    return direct.send(request(URI.create(epr.baseUrl() + "/" + path), method, body, headers).header("Accept",
        "application/fhir+json").build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder request(URI uri, String method, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
    if (body != null) {
      b.header("Content-Type", "application/fhir+json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b;
  }
}
