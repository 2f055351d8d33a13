package org.fhirwall.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The benchmark's Bundles disclose exactly the patients they are built with, in JSON and XML. */
class BundlesTest {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final ResponseInspector INSPECTOR = new ResponseInspector(FHIR, PatientCompartment.from(FHIR),
      new InspectorSettings(List.of(Bundles.BASE), 256L << 20, 64));

  @ParameterizedTest
  @CsvSource({"1,json", "50,json", "1000,json", "1,xml", "50,xml", "1000,xml"})
  void theInspectorFindsEveryPatient(int entries, String format) {
    byte[] bytes = Bundles.encode(FHIR, Bundles.searchset(entries), format);
    Inspection i = INSPECTOR.inspect(new ResponseBody(bytes, "application/fhir+" + format, null));
    assertThat(i).isInstanceOfSatisfying(Inspection.Read.class, r -> {
      assertThat(r.patients()).hasSize(Bundles.patients(entries)).isEqualTo(Bundles.patientKeys(entries));
      assertThat(r.resourceCount()).isEqualTo(entries + 1);
    });
  }
}
