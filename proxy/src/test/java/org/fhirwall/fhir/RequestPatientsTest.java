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
    assertThat(p.namedAlone(parsed(get("/fhir/Patient/p1/Observation")))).as("an Observation p1 performed, of another "
        + "patient's, is in p1's compartment").isEmpty();
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

  /**
   * Adversarial probe 11: a request that names only counted patients, yet whose answer can hold another patient's
   * record or be chosen by another patient's data, must not stand alone; else at the limit 429 (that other patient came
   * back, uncounted) against 200 tells what the hold was to stop telling. It stands alone only when it reads the named
   * patients' records by the parameter that makes them theirs, filtered by that record's own elements.
   */
  @Test
  void aRequestStandsAloneOnlyWhenItReadsTheNamedPatientsOwnRecordsByTheirOwnElements() {
    RequestPatients p = RequestPatients.R4;
    for (String own : new String[] {"/fhir/Patient/p1", "/fhir/Patient/p1/_history/2", "/fhir/Patient/p1/_history?_since=2020-01-01",
        "/fhir/Patient/p1?_elements=name", "/fhir/Patient?_id=p1&gender=female&_count=5", "/fhir/Observation?patient=p1&code=1234-5",
        "/fhir/Observation?subject=Patient/p1&value-quantity=gt5&_sort=-date", "/fhir/Condition?subject:Patient=p1&_lastUpdated=ge2020",
        "/fhir/Encounter?patient=p1&date=ge2019&_total=accurate", "/fhir/Observation?patient=p1&code:missing=false",
        "/fhir/Patient/p1/Encounter?date=ge2020", // R4's Patient compartment holds an Encounter by its patient alone
        "/fhir/Observation?patient=p1&encounter=Encounter/e1&focus:missing=true"}) {
      assertThat(p.namedAlone(parsed(get(own)))).as(own).containsExactly("Patient/p1");
    }
    for (String other : new String[] {
        "/fhir/Group?member=Patient/p1&member.identifier=mrn%7C7", // a group of p1's, chained to another member
        "/fhir/Patient/p1/Group?member.identifier=mrn%7C7",
        "/fhir/Group?member=Patient/p1", // a group holds other patients
        "/fhir/Observation?performer=Patient/p1&value-quantity=gt5", // another patient's record p1 took part in
        "/fhir/Patient/p1/Patient?birthdate=1961-04-05", // patients whose record links to p1
        "/fhir/Patient/p1/$everything", "/fhir/Patient/p1/$everything?_type=Group", "/fhir/Patient/$everything?_id=p1",
        "/fhir/Patient?_id=p1&link.birthdate=1961-04-05", "/fhir/Patient?_id=p1&_has:Patient:link:birthdate=1961",
        "/fhir/Observation?patient=p1&performer.birthdate=1961", "/fhir/Observation?patient=p1&_has:Provenance:target:agent=x",
        "/fhir/Observation?patient=p1&_sort=performer.birthdate", "/fhir/Observation?patient=p1&_contained=true",
        "/fhir/Observation?patient=p1&_content=smith", "/fhir/Observation?patient=p1&_text=smith",
        "/fhir/Observation?patient=p1&_filter=code%20eq%201", "/fhir/Observation?patient=p1&_list=l1",
        "/fhir/Observation?patient=p1&_query=q", "/fhir/Observation?patient=p1&no-such-parameter=1",
        "/fhir/Patient?_id=p1&_revinclude=Patient:link", "/fhir/Patient/p1/$meta",
        "/fhir/Appointment?patient=p1&date=ge2020", // an appointment's other participants
        "/fhir/Account?patient=p1", // an account's other subjects
        // a bare id on a reference that may point at a patient is HAPI FHIR's whatever-holds-that-id: a patient unnamed
        "/fhir/Observation?patient=p1&focus=p9", "/fhir/Condition?patient=p1&evidence-detail=p9"}) {
      assertThat(p.namedAlone(parsed(get(other)))).as(other).isEmpty();
    }
    assertThat(p.namedAlone(parsed(Requests.req("POST", "/fhir", batch("Patient/p1", "Group?member=Patient/p1"),
        "Content-Type: application/fhir+json")))).as("one entry holds others").isEmpty();
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
