package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.fhir.Requests.get;
import static org.fhirwall.fhir.Requests.parsed;

import org.junit.jupiter.api.Test;

class RequestPatientsTest {

  @Test
  void aCountAboutANamedPatientNamesIt() {
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?subject=Patient/p7&_summary=count"))))
        .containsExactly("Patient/p7");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?patient=p8&_count=0")))).containsExactly("Patient/p8");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Condition?subject:Patient=p9&_total=accurate"))))
        .containsExactly("Patient/p9");
  }

  @Test
  void compartmentsIdListsAndAbsoluteReferencesAreNamed() {
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Patient/p1/Observation")))).containsExactly("Patient/p1");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Patient?_id=a,b,c")))).containsExactlyInAnyOrder("Patient/a", "Patient/b", "Patient/c");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?subject=http://epr/fhir/Patient/x1,Patient/x2"))))
        .containsExactlyInAnyOrder("Patient/x1", "Patient/x2");
  }

  /**
   * What a principal held at its limit may still ask (at-limit: refuse): only a request whose answer can hold no other
   * patient than those it names, each of which must be counted already; else the 429 of a response over the limit would
   * tell again whether an answer held someone new.
   */
  @Test
  void theNamedPatientsStandAloneOnlyWhenEveryMatchIsTheirsAndNothingIsIncluded() {
    RequestPatients p = RequestPatients.R4;
    assertThat(p.namedAlone(parsed(get("/fhir/Patient/p1")))).containsExactly("Patient/p1");
    assertThat(p.namedAlone(parsed(get("/fhir/Patient?_id=p1,p2&birthdate=ge1950")))).containsExactlyInAnyOrder("Patient/p1",
        "Patient/p2");
    assertThat(p.namedAlone(parsed(get("/fhir/Observation?patient=p1&code=1234-5")))).containsExactly("Patient/p1");
    assertThat(p.namedAlone(parsed(get("/fhir/Patient/p1/Observation")))).containsExactly("Patient/p1");
    assertThat(p.namedAlone(parsed(get("/fhir/Patient?identifier=mrn%7C1&birthdate=ge1950")))).as("names nobody").isEmpty();
    assertThat(p.namedAlone(parsed(get("/fhir/Patient?_id=p1&_revinclude=Patient:link")))).as("includes others").isEmpty();
    assertThat(p.namedAlone(parsed(get("/fhir/Observation?patient=p1&_include=Observation:performer")))).isEmpty();
    assertThat(p.namedAlone(parsed(get("/fhir/Practitioner?_has:Encounter:participant:patient=p7")))).as("names p7, "
        + "matches practitioners").isEmpty();
    assertThat(p.namedAlone(parsed(Requests.req("POST", "/fhir", batch("Patient/p1", "Observation?patient=p2"),
        "Content-Type: application/fhir+json")))).containsExactlyInAnyOrder("Patient/p1", "Patient/p2");
    assertThat(p.namedAlone(parsed(Requests.req("POST", "/fhir", batch("Patient/p1",
        "Patient?identifier=mrn%7C1"), "Content-Type: application/fhir+json")))).as("one entry names nobody").isEmpty();
  }

  private static String batch(String... urls) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (int i = 0; i < urls.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"").append(urls[i]).append("\"}}");
    }
    return sb.append("]}").toString();
  }

  /**
   * HAPI FHIR resolves a bare id on a reference parameter that may point at a patient to whatever holds that id
   * ({@code Observation?subject=p7} finds Patient/p7's): an empty answer tells "p7 has none" like
   * {@code subject=Patient/p7} does (adversarial sweep 8).
   */
  @Test
  void aBareIdOnAParameterThatMayPointAtAPatientNamesIt() {
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?subject=p7&code=1234-5")))).containsExactly("Patient/p7");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Encounter?subject=p7,p8")))).containsExactlyInAnyOrder("Patient/p7",
        "Patient/p8");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?code=1234-5&subject:missing=true")))).isEmpty();
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?encounter=e1")))).as("no patient's compartment")
        .isEmpty();
  }

  /**
   * The parameter a reverse chain ends in names patients as one of its last type's own, and a chain on the {@code _id} of
   * what a patient parameter points at names that patient: {@code Practitioner?_has:Encounter:participant:patient=p7}
   * answers who treats p7, {@code Observation?subject._id=p7} is {@code subject=p7} (adversarial sweep 10).
   */
  @Test
  void aPatientNamedByIdInAChainOrAReverseChainIsNamed() {
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Practitioner?_has:Encounter:participant:patient=p7"))))
        .containsExactly("Patient/p7");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Practitioner?_has:Encounter:participant:subject=p7,p8"))))
        .containsExactlyInAnyOrder("Patient/p7", "Patient/p8");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Organization?_has:Patient:organization:_id=p7"))))
        .containsExactly("Patient/p7");
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Location?_has:Encounter:location:_has:Observation:encounter:"
        + "subject=p9")))).containsExactly("Patient/p9");
    for (String chain : new String[] {"subject._id", "subject:Patient._id", "patient._id", "encounter.subject._id"}) {
      assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?" + chain + "=p7&code=1234-5")))).as(chain)
          .containsExactly("Patient/p7");
    }
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?subject:Group._id=g1")))).isEmpty();
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?encounter._id=e1")))).isEmpty();
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Practitioner?_has:Encounter:participant:_id=e1")))).isEmpty();
  }

  /** Any answer to a write tells about the patients its conditional references name (matched, several, none). */
  @Test
  void theCriteriaOfAConditionalReferenceInABodyNameTheirPatients() {
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{"
        + "\"reference\":\"Patient?_id=p4\"},\"focus\":[{\"reference\":\"Encounter?patient=p5&identifier=v1\"}]}";
    assertThat(RequestPatients.R4.named(parsed(Requests.req("POST", "/fhir/Observation", obs, Requests.FHIR_JSON))))
        .containsExactlyInAnyOrder("Patient/p4", "Patient/p5");
  }

  @Test
  void aPopulationCountNamesNobody() {
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Patient?_summary=count")))).isEmpty();
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?code=1234-5&_summary=count")))).isEmpty();
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?subject.name=smith")))).isEmpty();
  }

  @Test
  void escapedCommasStayInsideOneValue() {
    assertThat(RequestPatients.R4.named(parsed(get("/fhir/Observation?patient=a%5C,b,c"))))
        .containsExactlyInAnyOrder("Patient/c");
  }

  @Test
  void aTypeOfPatientsRecordsIsPinnedToOnePatientByOneParameterWhereOneSays() {
    assertThat(RequestPatients.R4.pinParameter("Observation")).isEqualTo("patient");
    assertThat(RequestPatients.R4.pinParameter("Encounter")).isEqualTo("patient");
    assertThat(RequestPatients.R4.pinParameter("DocumentReference")).isEqualTo("patient");
    assertThat(RequestPatients.R4.pinParameter("Group")).as("member alone puts a Group in the compartment").isEqualTo("member");
    assertThat(RequestPatients.R4.pinParameter("Patient")).as("judged by its id").isNull();
    assertThat(RequestPatients.R4.pinParameter("Organization")).as("no patient's records").isNull();
    assertThat(RequestPatients.R4.pinParameter("Practitioner")).isNull();
  }

  /**
   * So under a launch context every delete by id of a patient's record but a Patient's (judged by its id, which no write
   * gives to another patient) goes pinned to the context patient: none goes by id with {@code If-Match} alone, which
   * HAPI FHIR's JPA server ignores on delete.
   */
  @Test
  void everyTypeInThePatientCompartmentButPatientHasAParameterThatPinsIt() {
    ca.uhn.fhir.context.FhirContext r4 = ca.uhn.fhir.context.FhirContext.forR4Cached();
    java.util.List<String> unpinned = new java.util.ArrayList<>();
    int inCompartment = 0;
    for (String type : new java.util.TreeSet<>(r4.getResourceTypes())) {
      boolean member = r4.getResourceDefinition(type).getSearchParams().stream().anyMatch(p ->
          p.getProvidesMembershipInCompartments() != null && p.getProvidesMembershipInCompartments().contains("Patient"));
      if (member) {
        inCompartment++;
        if (RequestPatients.R4.pinParameter(type) == null) {
          unpinned.add(type);
        }
      }
    }
    assertThat(inCompartment).as("types in the Patient compartment").isGreaterThan(50);
    assertThat(unpinned).containsExactly("Patient");
  }
}
