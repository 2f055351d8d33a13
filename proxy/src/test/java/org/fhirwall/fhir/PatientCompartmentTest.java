package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.junit.jupiter.api.Test;

class PatientCompartmentTest {
  static final FhirContext R4 = FhirContext.forR4Cached();
  static final PatientCompartment COMPARTMENT = PatientCompartment.from(R4);

  @Test
  void observationBelongsThroughSubjectAndPerformer() {
    assertThat(COMPARTMENT.inCompartment("Observation")).isTrue();
    assertThat(COMPARTMENT.ownerPaths("Observation")).containsExactlyInAnyOrder(List.of("subject"), List.of("performer"));
  }

  @Test
  void whereResolveIsPatientIsReducedToTheElement() {
    assertThat(COMPARTMENT.ownerPaths("Encounter")).containsExactly(List.of("subject"));
    assertThat(COMPARTMENT.ownerPaths("Condition")).contains(List.of("subject"), List.of("asserter"));
    assertThat(COMPARTMENT.ownerPaths("AuditEvent")).containsExactlyInAnyOrder(List.of("agent", "who"), List.of("entity", "what"));
  }

  @Test
  void nestedOwnerPathsKeepEveryStep() {
    assertThat(COMPARTMENT.ownerPaths("Appointment")).contains(List.of("participant", "actor"));
    assertThat(COMPARTMENT.ownerPaths("Procedure")).contains(List.of("subject"), List.of("performer", "actor"));
    assertThat(COMPARTMENT.ownerPaths("CarePlan")).contains(List.of("activity", "detail", "performer"));
  }

  @Test
  void groupMembersAndPatientLinksCount() {
    assertThat(COMPARTMENT.ownerPaths("Group")).containsExactly(List.of("member", "entity"));
    assertThat(COMPARTMENT.inCompartment("Patient")).isTrue();
    assertThat(COMPARTMENT.ownerPaths("Patient")).containsExactly(List.of("link", "other"));
  }

  @Test
  void medicationRequestAndItsKinBelong() {
    assertThat(COMPARTMENT.ownerPaths("MedicationRequest")).contains(List.of("subject"));
    assertThat(COMPARTMENT.ownerPaths("AllergyIntolerance")).contains(List.of("patient"), List.of("recorder"), List.of("asserter"));
    assertThat(COMPARTMENT.ownerPaths("RelatedPerson")).containsExactly(List.of("patient"));
    assertThat(COMPARTMENT.ownerPaths("Provenance")).containsExactly(List.of("target"));
  }

  @Test
  void definitionalAndAdministrativeTypesAreOutside() {
    for (String type : List.of("Practitioner", "PractitionerRole", "Organization", "Location", "Medication", "Binary",
        "Bundle", "OperationOutcome", "Parameters", "StructureDefinition", "ValueSet", "Task")) {
      assertThat(COMPARTMENT.inCompartment(type)).as(type).isFalse();
      assertThat(COMPARTMENT.ownerPaths(type)).as(type).isEmpty();
      assertThat(COMPARTMENT.nonMemberTypes()).as(type).contains(type);
    }
    assertThat(COMPARTMENT.inCompartment("NoSuchType")).isFalse();
  }

  @Test
  void membersAndNonMembersPartitionTheR4Types() {
    assertThat(COMPARTMENT.memberTypes()).hasSize(67).doesNotContainAnyElementsOf(COMPARTMENT.nonMemberTypes());
    assertThat(COMPARTMENT.memberTypes().size() + COMPARTMENT.nonMemberTypes().size()).isEqualTo(R4.getResourceTypes().size());
    for (String type : COMPARTMENT.memberTypes()) {
      assertThat(COMPARTMENT.ownerPaths(type)).as(type).isNotEmpty().allSatisfy(path -> assertThat(path).isNotEmpty()
          .allSatisfy(element -> assertThat(element).matches("[a-z][A-Za-z]*")));
    }
  }

  @Test
  void choiceTypesAndCastsBecomeJsonElementNames() {
    assertThat(PatientCompartment.elementPath("Observation", "Observation.value.as(Reference)")).containsExactly("valueReference");
    assertThat(PatientCompartment.elementPath("Observation", "(Observation.value as Reference)")).containsExactly("valueReference");
    assertThat(PatientCompartment.elementPath("Observation", "Observation.component.value.ofType(Reference)"))
        .containsExactly("component", "valueReference");
    assertThat(PatientCompartment.elementPath("Condition", "Condition.subject.where(resolve() is Patient)")).containsExactly("subject");
    assertThat(PatientCompartment.elementPath("Person", "Person.link.target.where(resolve() is Patient)")).containsExactly("link", "target");
    assertThat(PatientCompartment.elementPath("Observation", "Observation")).isEmpty();
  }

  @Test
  void theResultIsImmutable() {
    assertThat(COMPARTMENT.ownerPaths("Observation")).isUnmodifiable();
    assertThat(COMPARTMENT.memberTypes()).isUnmodifiable();
    assertThat(COMPARTMENT.nonMemberTypes()).isUnmodifiable();
  }
}
