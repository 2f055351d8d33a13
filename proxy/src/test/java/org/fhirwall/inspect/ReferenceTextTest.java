package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.fhirwall.inspect.ReferenceText.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReferenceTextTest {
  final ReferenceText text = new ReferenceText(Set.of("Patient", "Practitioner", "Observation", "Group", "Device"));

  private Kind classify(String reference) {
    byte[] padded = ("xx" + reference + "yy").getBytes(UTF_8);
    return text.classify(padded, 2, padded.length - 4);
  }

  private String idOf(String reference) {
    byte[] padded = ("xx" + reference + "yy").getBytes(UTF_8);
    assertThat(text.classify(padded, 2, padded.length - 4)).isEqualTo(Kind.PATIENT);
    return new String(padded, text.idStart, text.idEnd - text.idStart, UTF_8);
  }

  @ParameterizedTest
  @CsvSource({
      "Patient/1, 1",
      "Patient/1/_history/2, 1",
      "http://any.example/base/Patient/abc-1.2, abc-1.2",
      "https://epr/fhir/Patient/7/_history/3?x=y, 7",
      "patient/9, 9",
      "Patient/5#frag, 5"})
  void patientReferencesNameTheirId(String reference, String id) {
    assertThat(idOf(reference)).isEqualTo(id);
  }

  @ParameterizedTest
  @CsvSource({"Patient?identifier=urn:x|1", "Patient/a b", "Patient/$everything", "http://epr/fhir/Patient/_search"})
  void patientReferencesWithoutAReadableIdAreUnresolvedPatients(String reference) {
    assertThat(classify(reference)).isEqualTo(Kind.PATIENT_UNRESOLVED);
  }

  @ParameterizedTest
  @CsvSource({"Practitioner/1", "http://epr/fhir/Observation/o1/_history/2", "Group/5", "Device/d?x=1"})
  void otherTypedReferencesAreNotPatients(String reference) {
    assertThat(classify(reference)).isEqualTo(Kind.OTHER_TYPE);
  }

  @Test
  void containedUrnAndUntypedReferences() {
    assertThat(classify("#p1")).isEqualTo(Kind.CONTAINED);
    assertThat(classify("#")).isEqualTo(Kind.CONTAINED);
    assertThat(classify("urn:uuid:0f0e0d0c-0000-4000-8000-000000000001")).isEqualTo(Kind.URN);
    assertThat(classify("URN:oid:1.2.3")).isEqualTo(Kind.URN);
    assertThat(classify("123")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("Patient")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("Foo/1")).isEqualTo(Kind.UNTYPED);
    assertThat(classify("http://epr/fhir/Patient")).isEqualTo(Kind.UNTYPED);
  }
}
