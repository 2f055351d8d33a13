package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The job a kick-off's status URL names and the files a manifest lists, in the plain forms fhirwall binds. */
class ExportHandlesTest {
  static final String EPR = "http://epr.internal:8080/fhir";

  @Test
  void theJobOfAStatusUrl() {
    assertThat(ExportHandles.jobOf(EPR + "/$export-poll-status?_jobId=2f1e6c1a-9d7b-4c1e-8a43-0c5b8a0f6d21", EPR))
        .contains("2f1e6c1a-9d7b-4c1e-8a43-0c5b8a0f6d21");
    assertThat(ExportHandles.jobOf(EPR + "/$export-poll-status?_jobId=j.1_a&_outputFormat=ndjson", EPR)).contains("j.1_a");
  }

  @Test
  void aStatusUrlInAnyOtherFormNamesNoJob() {
    for (String url : List.of(EPR + "/bulkstatus/j1", "http://elsewhere/fhir/$export-poll-status?_jobId=j1",
        EPR + "/$export-poll-status", EPR + "/$export-poll-status?_jobId=", EPR + "/$export-poll-status?_jobId=a&_jobId=b",
        EPR + "/$export-poll-status?_jobId=a%2Fb", EPR + "/$export-poll-status?_jobId=a+b", EPR + "/$export-poll-status?_jobId=a#x",
        EPR + "/$export-poll-status?_jobId=" + "x".repeat(129), EPR + "x/$export-poll-status?_jobId=j1")) {
      assertThat(ExportHandles.jobOf(url, EPR)).as(url).isEmpty();
    }
  }

  @Test
  void theFilesOfAManifestAreItsBinaries() {
    String manifest = """
        {"transactionTime":"2026-11-25T10:00:00Z","request":"http://epr.internal:8080/fhir/$export","requiresAccessToken":true,
         "output":[{"type":"Patient","url":"http://epr.internal:8080/fhir/Binary/j-Patient-1","count":3},
                   {"type":"Observation","url":"http://epr.internal:8080/fhir/Binary/j-Observation-1"}],
         "error":[{"type":"OperationOutcome","url":"http://epr.internal:8080/fhir/Binary/j-err-1"}],
         "deleted":[{"type":"Bundle","url":"http://epr.internal:8080/fhir/Binary/j-del-1"}]}""";
    assertThat(ExportHandles.filesOf(manifest.getBytes(UTF_8), EPR)).hasValueSatisfying(ids ->
        assertThat(ids).containsExactly("j-Patient-1", "j-Observation-1", "j-err-1", "j-del-1"));
    assertThat(ExportHandles.filesOf("{\"output\":[]}".getBytes(UTF_8), EPR)).hasValueSatisfying(ids -> assertThat(ids).isEmpty());
  }

  @Test
  void aManifestWithAFileThatIsNotABinaryOfTheEprNamesNone() {
    for (String url : List.of("https://s3.example/b/1.ndjson", EPR + "/files/1.ndjson", EPR + "/Binary/a/b", EPR + "/Binary/",
        EPR + "/Binary/a?x=1", EPR + "/Binary/" + "a".repeat(65))) {
      assertThat(ExportHandles.filesOf(("{\"output\":[{\"url\":\"" + url + "\"}]}").getBytes(UTF_8), EPR)).as(url).isEmpty();
    }
    assertThat(ExportHandles.filesOf("not json".getBytes(UTF_8), EPR)).isEmpty();
  }
}
