package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.fhir.Requests.get;
import static org.fhirwall.fhir.Requests.parsed;
import static org.fhirwall.fhir.Requests.req;

import org.junit.jupiter.api.Test;

/** The request shapes of the asynchronous bulk export flow, as a bulk client sends them. */
class BulkExportShapesTest {

  @Test
  void kickOffPollAndDownloadAreClassified() {
    FhirRequest kickOff = parsed(get("/fhir/Group/g1/$export?_type=Patient,Observation", "Prefer: respond-async"));
    assertThat(kickOff.interaction()).isEqualTo(Interaction.OPERATION_INSTANCE);
    assertThat(kickOff.operation()).isEqualTo("export");
    assertThat(kickOff.respondAsync()).isTrue();
    assertThat(CanonicalForm.of(kickOff).headers()).extracting(RawRequest.Header::value).contains("respond-async");

    FhirRequest poll = parsed(get("/fhir/$export-poll-status?_jobId=abc123"));
    assertThat(poll.interaction()).isEqualTo(Interaction.OPERATION_SYSTEM);
    assertThat(poll.operation()).isEqualTo("export-poll-status");
    assertThat(CanonicalForm.of(poll).target()).isEqualTo("$export-poll-status?_jobId=abc123");

    FhirRequest file = parsed(get("/fhir/Binary/abc123-Patient-1", "Accept: application/fhir+ndjson"));
    assertThat(file.interaction()).isEqualTo(Interaction.READ);
    assertThat(file.responseFormat()).isEqualTo(Format.NDJSON);
  }

  @Test
  void aCancelIsADeleteOfTheStatusUrlClassifiedLikeItsPoll() {
    FhirRequest cancel = parsed(req("DELETE", "/fhir/$export-poll-status?_jobId=abc123", ""));
    assertThat(cancel.interaction()).isEqualTo(Interaction.OPERATION_SYSTEM);
    assertThat(cancel.operation()).isEqualTo("export-poll-status");
    assertThat(cancel.method()).isEqualTo("DELETE");
    assertThat(cancel.body().isEmpty()).isTrue();
    assertThat(CanonicalForm.of(cancel).method()).isEqualTo("DELETE");
    assertThat(CanonicalForm.of(cancel).target()).isEqualTo("$export-poll-status?_jobId=abc123");
  }
}
