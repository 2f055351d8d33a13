package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.fhirwall.fhir.QueryParam;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

class ProjectionTest {
  static final FhirContext FHIR = FhirContext.forR4Cached();

  static byte[] bundle() {
    Observation o = new Observation();
    o.setId("o1");
    o.setStatus(Observation.ObservationStatus.FINAL);
    o.getCode().setText("pulse");
    o.setSubject(new Reference("Patient/p1"));
    Bundle b = new Bundle().setType(Bundle.BundleType.SEARCHSET);
    b.addEntry().setFullUrl("http://epr/fhir/Observation/o1").setResource(o);
    return FHIR.newJsonParser().encodeResourceToString(b).getBytes(UTF_8);
  }

  @Test
  void onlyElementProjectionsAreTakenFromTheEpr() {
    List<QueryParam> params = List.of(new QueryParam("code", "x"), new QueryParam("_elements", "code"),
        new QueryParam("_summary", "count"));
    Projection p = Projection.of(params);
    assertThat(p).isNotNull();
    assertThat(p.elements()).containsExactly("code");
    assertThat(Projection.without(params)).extracting(QueryParam::name).containsExactly("code", "_summary");
    assertThat(Projection.of(List.of(new QueryParam("_summary", "count")))).isNull();
  }

  @Test
  void theProjectionIsAppliedAfterCountingSoTheSubjectIsSeenButNotReleased() {
    byte[] full = bundle();
    assertThat(new String(full, UTF_8)).contains("Patient/p1");
    String shaped = new String(Projection.of(List.of(new QueryParam("_elements", "code"))).apply(FHIR, full), UTF_8);
    assertThat(shaped).contains("pulse").doesNotContain("Patient/p1").contains("http://epr/fhir/Observation/o1");
    String excluded = new String(Projection.of(List.of(new QueryParam("_elements:exclude", "code"))).apply(FHIR, full), UTF_8);
    assertThat(excluded).doesNotContain("pulse").contains("Patient/p1");
    String summary = new String(Projection.of(List.of(new QueryParam("_summary", "true"))).apply(FHIR, full), UTF_8);
    assertThat(summary).contains("Patient/p1").contains("pulse");
  }
}
