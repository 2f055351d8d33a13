package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.Test;

/**
 * The gap the launch-context write rule left open: what a delete or an update by id replaces is the EPR's, so an app
 * launched for patient p7 deleted ({@code DELETE Observation/o-b}) or overwrote ({@code PUT Observation/o-b} with a body
 * naming p7) patient p8's Observation. Now fhirwall reads the record first, with its own GET, and lets the write go
 * only when the record is p7's alone, made conditional on the version it read ({@code If-Match}); anything else is
 * refused 403 ({@code smart-patient-context:write}) before the write reaches the EPR, and what the pre-read found is
 * never shown nor charged.
 */
class LaunchContextPreReadExchangeTest extends ExchangeFixture {

  {
    epr = LaunchContextPreReadExchangeTest::twoPatientsRecords;
  }

  /**
   * p8's {@code o-b} (version 3), p7's {@code o-a} (version 2), nothing at {@code o-gone}, a failing {@code o-err}; any
   * other write is carried out (as the EPR would), and the tests tell whether it was to reach it.
   */
  static UpstreamResult twoPatientsRecords(UpstreamRequest r) {
    return switch (r.method() + " " + r.target()) {
      case "GET Observation/o-b" -> versioned("o-b", "p8", "3");
      case "GET Observation/o-a" -> versioned("o-a", "p7", "2");
      case "GET Observation/o-both" -> ExchangeRig.json(200, obs("o-both", "p7", "1").replace("\"status\"",
          "\"focus\":[{\"reference\":\"Patient/p8\"}],\"status\""));
      case "GET Observation/o-none" -> ExchangeRig.json(200, obs("o-none", "p7", "1")
          .replace(",\"subject\":{\"reference\":\"Patient/p7\"}", ""));
      case "GET Observation/o-meta" -> ExchangeRig.json(200, obs("o-meta", "p7", "5"));
      case "GET Observation/o-unversioned" -> ExchangeRig.json(200, obs("o-unversioned", "p7", null));
      case "GET Observation/o-gone" -> ExchangeRig.json(404, outcome("not found"));
      case "GET Observation/o-err" -> ExchangeRig.json(500, outcome("internal error"));
      case "GET Observation/o-html" -> new UpstreamResult.Response(200, ExchangeRig.headers("text/html"),
          ExchangeRig.buf("<html>maintenance</html>"));
      case "PUT Observation/o-a", "PUT Observation/o-gone" -> ExchangeRig.json(200, obs(r.target().substring(12), "p7", "9"));
      case "DELETE Observation?_id=o-a&patient=Patient%2Fp7", "DELETE Observation/o-gone",
          "DELETE Observation?_id=o-meta&patient=Patient%2Fp7" -> ExchangeRig.json(200, outcome("deleted"));
      default -> ExchangeRig.json(200, outcome("written")); // what the EPR does with a write it should not have seen
    };
  }

  @Test
  void anotherPatientsRecordIsNeitherDeletedNorOverwritten() {
    refusedNoting(delete("Observation/o-b"), "pre-read Observation: another patient's record");
    refusedNoting(put("o-b", "p7"), "pre-read Observation: another patient's record");
    assertThat(reachedEpr).as("only fhirwall's reads reached the EPR").extracting(UpstreamRequest::method)
        .containsExactly("GET", "GET");
    assertThat(audit).allSatisfy(a -> assertThat(a.patients()).as("the pre-read charged nobody").isEmpty());
  }

  @Test
  void theContextPatientsOwnRecordIsWrittenIfStillTheVersionRead() {
    FullHttpResponse deleted = send(delete("Observation/o-a"));
    assertThat(deleted.status().code()).as(body(deleted)).isEqualTo(200);
    FullHttpResponse updated = send(put("o-a", "p7"));
    assertThat(updated.status().code()).as(body(updated)).isEqualTo(200);
    assertThat(reachedEpr).extracting(r -> r.method() + " " + r.target())
        .as("a delete goes pinned to the context patient: the EPR deletes it only if it is still that patient's, "
            + "If-Match or not")
        .containsExactly("GET Observation/o-a", "DELETE Observation?_id=o-a&patient=Patient%2Fp7", "GET Observation/o-a",
            "PUT Observation/o-a");
    assertThat(ifMatch(reachedEpr.get(1))).isEqualTo("W/\"2\"");
    assertThat(ifMatch(reachedEpr.get(3))).isEqualTo("W/\"2\"");
    assertThat(ifMatch(reachedEpr.get(0))).as("the pre-read itself is unconditional").isNull();
    assertThat(audit).extracting(AuditRecord::notes)
        .allSatisfy(n -> assertThat(n).anyMatch(s -> s.startsWith("pre-read Observation: the context patient's record")));
  }

  @Test
  void theVersionIsTakenFromTheRecordWithoutAnETagAndARecordWithoutAVersionIsRefused() {
    FullHttpResponse deleted = send(delete("Observation/o-meta"));
    assertThat(deleted.status().code()).as(body(deleted)).isEqualTo(200);
    assertThat(ifMatch(reachedEpr.get(1))).as("meta.versionId").isEqualTo("W/\"5\"");
    refusedNoting(delete("Observation/o-unversioned"), "pre-read Observation: the context patient's record, without a version");
    assertThat(reachedEpr).extracting(r -> r.method() + " " + r.target()).containsExactly("GET Observation/o-meta",
        "DELETE Observation?_id=o-meta&patient=Patient%2Fp7", "GET Observation/o-unversioned");
  }

  @Test
  void aClientsOwnPreconditionIsKeptWhenItIsTheVersionReadAndAnsweredWhenItIsNot() {
    FullHttpResponse same = send(put("o-a", "p7", "If-Match: W/\"2\"\r\n"));
    assertThat(same.status().code()).as(body(same)).isEqualTo(200);
    assertThat(ifMatch(reachedEpr.get(1))).isEqualTo("W/\"2\"");

    int before = reachedEpr.size();
    FullHttpResponse stale = send(put("o-a", "p7", "If-Match: W/\"1\"\r\n"));
    assertThat(stale.status().code()).as(body(stale)).isEqualTo(412);
    assertThat(body(stale)).contains("OperationOutcome");
    assertThat(reachedEpr.subList(before, reachedEpr.size())).extracting(UpstreamRequest::method).containsExactly("GET");
  }

  @Test
  void aRecordThatDoesNotExistIsCreatedByUpdateOrNotDeleted() {
    FullHttpResponse created = send(put("o-gone", "p7"));
    assertThat(created.status().code()).as(body(created)).isEqualTo(200);
    FullHttpResponse deleted = send(delete("Observation/o-gone"));
    assertThat(deleted.status().code()).as(body(deleted)).isEqualTo(200);
    assertThat(reachedEpr).extracting(r -> r.method() + " " + r.target()).containsExactly("GET Observation/o-gone",
        "PUT Observation/o-gone", "GET Observation/o-gone", "DELETE Observation/o-gone");
    assertThat(ifMatch(reachedEpr.get(1))).isNull();
  }

  @Test
  void aRecordOfSeveralPatientsOrNoneOrAnUnreadableOrFailedPreReadIsRefused() {
    refusedNoting(delete("Observation/o-both"), "pre-read Observation: another patient's record");
    refusedNoting(delete("Observation/o-none"), "pre-read Observation: no patient's record");
    refusedNoting(delete("Observation/o-err"), "pre-read Observation: failed");
    refusedNoting(put("o-html", "p7"), "pre-read Observation: failed");
    assertThat(reachedEpr).extracting(UpstreamRequest::method).containsOnly("GET");
  }

  @Test
  void aPatientRecordIsJudgedByItsIdWithoutAPreRead() {
    int before = audit.size();
    FullHttpResponse r = send(delete("Patient/p8"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(403);
    assertThat(audit.get(before).rule()).isEqualTo("smart-patient-context");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void anUpdateOrDeleteByIdInABatchOrTransactionIsRefused() {
    refusedNoting(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":"
        + "{\"method\":\"DELETE\",\"url\":\"Observation/o-b\"}}]}", ""), null);
    refusedNoting(write("POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + obs("o-b", "p7", null) + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation/o-b\"}}]}", ""), null);
    assertThat(reachedEpr).isEmpty();
  }

  /** Refused by the launch-context rule, the audit record noting {@code note} (its start) when not null. */
  private void refusedNoting(String wire, String note) {
    Refused refusal = refused(wire, "smart-patient-context:write");
    assertThat(refusal.body()).contains("launch context").doesNotContain("p8");
    AuditRecord a = refusal.record();
    if (note != null) {
      assertThat(a.notes()).as("the audit record tells of the pre-read").anyMatch(n -> n.startsWith(note));
    }
  }

  private static String ifMatch(UpstreamRequest r) {
    for (Map.Entry<String, String> h : r.headers()) {
      if (h.getKey().equalsIgnoreCase("If-Match")) {
        return h.getValue();
      }
    }
    return null;
  }

  private static UpstreamResult versioned(String id, String patient, String version) {
    DefaultHttpHeaders h = ExchangeRig.headers("application/fhir+json");
    h.set("ETag", "W/\"" + version + "\"");
    return new UpstreamResult.Response(200, h, ExchangeRig.buf(obs(id, patient, version)));
  }

  static String obs(String id, String patient, String version) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\"" + (version == null ? ""
        : ",\"meta\":{\"versionId\":\"" + version + "\"}") + ",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
  }

  private static String outcome(String text) {
    return "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\",\"code\":\"informational\","
        + "\"diagnostics\":\"" + text + "\"}]}";
  }

  private static String delete(String path) {
    return Wire.delete(path);
  }

  private static String put(String id, String patient) {
    return put(id, patient, "");
  }

  private static String put(String id, String patient, String headers) {
    return write("PUT", "Observation/" + id, obs(id, patient, null), headers);
  }

  /** {@code headers}: whole lines, each ending in CRLF, or empty. */
  private static String write(String method, String path, String body, String headers) {
    return Wire.json(method, path, body, headers.isEmpty() ? new String[0] : headers.strip().split("\r\n"));
  }

  @Override
  String role() {
    return WARD_WRITER;
  }

  @Override
  Authenticator principal() {
    return LaunchContextWritesExchangeTest.launchedForP7();
  }
}
