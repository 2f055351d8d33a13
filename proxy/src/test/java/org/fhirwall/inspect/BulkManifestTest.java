package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BulkManifestTest {
  static final String EPR = "http://epr.internal:8080/fhir";
  static final String PUBLIC = "https://fhir.hospital.example/fhir";

  @Test
  void fileUrlsAreMovedToFhirwallsBase() {
    String manifest = """
        {"transactionTime":"2026-11-25T10:00:00Z","request":"http://epr.internal:8080/fhir/$export","requiresAccessToken":true,
         "output":[{"type":"Patient","url":"http://epr.internal:8080/fhir/Binary/j-Patient-1","count":3}],
         "error":[{"type":"OperationOutcome","url":"http://epr.internal:8080/fhir/Binary/j-err-1"}]}""";
    String out = new String(BulkManifest.rewrite(manifest.getBytes(UTF_8), EPR, PUBLIC).orElseThrow(), UTF_8);
    assertThat(out).contains(PUBLIC + "/Binary/j-Patient-1").contains(PUBLIC + "/Binary/j-err-1")
        .contains("\"request\":\"" + PUBLIC + "/$export\"").doesNotContain("epr.internal");
  }

  @Test
  void aFileElsewhereOrAMalformedManifestIsNotReleased() {
    assertThat(BulkManifest.rewrite("""
        {"output":[{"type":"Patient","url":"https://s3.example/bucket/Patient-1.ndjson"}]}""".getBytes(UTF_8), EPR, PUBLIC)).isEmpty();
    assertThat(BulkManifest.rewrite("""
        {"output":[{"type":"Patient","url":"http://epr.internal:8080/fhir/files/Patient-1.ndjson"}]}""".getBytes(UTF_8), EPR, PUBLIC))
        .as("a file fhirwall cannot bind to the account (not a Binary)").isEmpty();
    assertThat(BulkManifest.rewrite("""
        {"output":[],"error":[{"url":"http://epr.internal:8080/fhir/Binary/e1/_history/1"}]}""".getBytes(UTF_8), EPR, PUBLIC))
        .isEmpty();
    assertThat(BulkManifest.rewrite("{\"output\":{}}".getBytes(UTF_8), EPR, PUBLIC)).isEmpty();
    assertThat(BulkManifest.rewrite("not json".getBytes(UTF_8), EPR, PUBLIC)).isEmpty();
    assertThat(BulkManifest.rewrite("[]".getBytes(UTF_8), EPR, PUBLIC)).isEmpty();
  }
}
