package org.fhirwall.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SyntheticDataTest {

  private static SyntheticData tenThousand;

  @BeforeAll
  static void generateOnce() {
    tenThousand = SyntheticData.generate(42, 10_000);
  }

  @Test
  void tenThousandPatientsAreTheSameForTheSameSeedAndDifferForAnother() {
    SyntheticData first = tenThousand;
    SyntheticData again = SyntheticData.generate(42, 10_000);
    SyntheticData other = SyntheticData.generate(43, 10_000);

    List<Resource> a = first.shared();
    List<Resource> b = again.shared();
    assertThat(b).hasSameSizeAs(a);
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).equalsDeep(b.get(i))) {
        throw new AssertionError("resource " + i + " differs: " + a.get(i).getId() + " / " + b.get(i).getId());
      }
    }
    assertThat(first.counts()).isEqualTo(again.counts());
    Patient p1 = (Patient) a.stream().filter(r -> r instanceof Patient).findFirst().orElseThrow();
    Patient otherP1 = (Patient) other.shared().stream().filter(r -> r instanceof Patient).findFirst().orElseThrow();
    assertThat(otherP1.getIdElement().getIdPart()).isEqualTo("p1");
    assertThat(p1.equalsDeep(otherP1)).isFalse();
  }

  @Test
  void tenThousandPatientsHaveTheDocumentedShape() {
    SyntheticData data = tenThousand;

    assertThat(data.patients()).isEqualTo(10_000);
    assertThat(data.count("Patient")).isEqualTo(10_000);
    assertThat(data.count("Observation")).isBetween(28_000, 32_000);
    assertThat(data.count("Condition")).isBetween(9_000, 11_000);
    assertThat(data.count("MedicationRequest")).isBetween(9_000, 11_000);
    assertThat(data.count("Encounter")).isBetween(9_000, 11_000);
    assertThat(data.count("Practitioner")).isEqualTo(20);
    assertThat(data.count("Organization")).isEqualTo(3);
    assertThat(data.count("Group")).isEqualTo(3);
    assertThat(data.count("DocumentReference")).isEqualTo(20).isEqualTo(data.count("Binary"));

    Set<String> patientIds = new HashSet<>();
    for (Resource resource : data.shared()) {
      assertThat(resource.getIdElement().getIdPart()).matches("[a-z]+\\d+");
      if (resource instanceof Patient patient) {
        patientIds.add(patient.getIdPart());
        assertThat(patient.getName()).isNotEmpty();
        assertThat(patient.hasBirthDate()).isTrue();
        assertThat(patient.getIdentifier()).hasSize(2);
        assertThat(patient.getAddress()).hasSize(1);
        assertThat(patient.getGeneralPractitionerFirstRep().getReference()).matches("Practitioner/pr([1-9]|1\\d|20)");
      }
    }
    assertThat(patientIds).hasSize(10_000).contains("p1", "p10000");
    Group large = (Group) data.shared().stream().filter(r -> r instanceof Group g
        && g.getIdPart().equals(SyntheticData.LARGE_GROUP_ID)).findFirst().orElseThrow();
    assertThat(large.getMember()).hasSize(2_500);
  }

  @Test
  void binariesPointAtTheirDocumentOrItsPatient() {
    SyntheticData data = SyntheticData.generate(3, 2_000);

    for (Resource resource : data.shared()) {
      if (resource instanceof Binary binary) {
        int k = Integer.parseInt(binary.getIdPart().substring(1));
        DocumentReference document = (DocumentReference) data.shared().stream()
            .filter(r -> r instanceof DocumentReference d && d.getIdPart().equals("d" + k)).findFirst().orElseThrow();
        assertThat(document.getContentFirstRep().getAttachment().getUrl()).isEqualTo("Binary/b" + k);
        assertThat(binary.getSecurityContext().getReference())
            .isEqualTo(k % 2 == 1 ? "DocumentReference/d" + k : document.getSubject().getReference());
        assertThat(binary.getData()).isNotEmpty();
      }
    }
  }

  @Test
  void observationsReferToTheirPatientAndAreCopiedOut() {
    SyntheticData data = SyntheticData.generate(1, 50);

    List<Resource> copies = data.resources();
    Observation observation = (Observation) copies.stream().filter(r -> r instanceof Observation).findFirst().orElseThrow();
    assertThat(observation.getSubject().getReference()).isEqualTo("Patient/p1");
    observation.getSubject().setReference("Patient/p2");
    Observation original = (Observation) data.shared().stream().filter(r -> r instanceof Observation).findFirst().orElseThrow();
    assertThat(original.getSubject().getReference()).isEqualTo("Patient/p1");
  }

  @Test
  void refusesAnEmptyHospital() {
    assertThatThrownBy(() -> SyntheticData.generate(1, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("patients: 0");
  }
}
