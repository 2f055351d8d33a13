package org.fhirwall.inspect;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/** Realistic R4 resources and Bundles built with HAPI FHIR's model, for the inspector's tests. */
final class Fixtures {
  static final FhirContext R4 = FhirContext.forR4Cached();
  static final String BASE = "http://epr.example:8080/fhir";

  private Fixtures() {}

  static String json(Resource resource) {
    return R4.newJsonParser().encodeResourceToString(resource);
  }

  static String xml(Resource resource) {
    return R4.newXmlParser().encodeResourceToString(resource);
  }

  static Patient patient(String id) {
    Patient p = new Patient();
    p.setId(id);
    p.addIdentifier().setSystem("urn:oid:1.2.250.1.213.1.4.8").setValue("1" + id + "0000000");
    p.addName().setFamily("Martin" + id).addGiven("Claire").setUse(HumanName.NameUse.OFFICIAL);
    p.setGender(Enumerations.AdministrativeGender.FEMALE);
    p.setBirthDateElement(new DateType("1961-04-0" + (1 + Math.abs(id.hashCode()) % 9)));
    p.addAddress(new Address().addLine(id + " rue de la Paix").setCity("Rennes").setPostalCode("35000"));
    p.setManagingOrganization(new Reference("Organization/chu"));
    p.addGeneralPractitioner(new Reference("Practitioner/gp1").setDisplay("Dr Durand"));
    return p;
  }

  static Practitioner practitioner(String id) {
    Practitioner p = new Practitioner();
    p.setId(id);
    p.addName().setFamily("Durand" + id).addPrefix("Dr");
    return p;
  }

  static Organization organization(String id) {
    Organization o = new Organization();
    o.setId(id);
    o.setName("CHU " + id);
    return o;
  }

  static Observation observation(String id, String patientId) {
    Observation o = new Observation();
    o.setId(id);
    o.setStatus(Observation.ObservationStatus.FINAL);
    o.setCode(new CodeableConcept(new Coding("http://loinc.org", "8867-4", "Heart rate")));
    o.setSubject(new Reference("Patient/" + patientId));
    o.setEncounter(new Reference("Encounter/e" + patientId));
    o.addPerformer(new Reference("Practitioner/pr1"));
    o.setValue(new Quantity().setValue(72).setUnit("beats/minute").setSystem("http://unitsofmeasure.org").setCode("/min"));
    return o;
  }

  static Encounter encounter(String id, String patientId) {
    Encounter e = new Encounter();
    e.setId(id);
    e.setStatus(Encounter.EncounterStatus.FINISHED);
    e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient encounter"));
    e.setSubject(new Reference("Patient/" + patientId));
    e.addParticipant().setIndividual(new Reference("Practitioner/pr1"));
    e.setServiceProvider(new Reference("Organization/chu"));
    return e;
  }

  static MedicationRequest medicationRequest(String id, String patientId) {
    MedicationRequest m = new MedicationRequest();
    m.setId(id);
    m.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
    m.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
    m.setMedication(new Reference("Medication/paracetamol"));
    m.setSubject(new Reference("Patient/" + patientId));
    m.setRequester(new Reference("Practitioner/pr1"));
    m.addDosageInstruction().setText("1 g every 6 hours");
    return m;
  }

  static Condition condition(String id, String patientId) {
    Condition c = new Condition();
    c.setId(id);
    c.setCode(new CodeableConcept(new Coding("http://snomed.info/sct", "44054006", "Diabetes mellitus type 2")));
    c.setSubject(new Reference("Patient/" + patientId));
    c.setAsserter(new Reference("Practitioner/pr1"));
    return c;
  }

  /** A searchset as HAPI FHIR's server returns it: self and next links, full URLs, search modes. */
  static Bundle searchset(List<? extends Resource> matches, List<? extends Resource> includes) {
    Bundle b = new Bundle();
    b.setId("b1");
    b.setType(Bundle.BundleType.SEARCHSET);
    b.setTotal(matches.size());
    b.addLink().setRelation("self").setUrl(BASE + "/Observation?patient=1&_include=Observation:subject");
    b.addLink().setRelation("next").setUrl(BASE + "?_getpages=0f1e2d&_getpagesoffset=20&_count=20&_bundletype=searchset");
    for (Resource r : matches) {
      entry(b, r).getSearch().setMode(Bundle.SearchEntryMode.MATCH);
    }
    for (Resource r : includes) {
      entry(b, r).getSearch().setMode(Bundle.SearchEntryMode.INCLUDE);
    }
    return b;
  }

  static Bundle.BundleEntryComponent entry(Bundle b, Resource r) {
    return b.addEntry().setFullUrl(BASE + "/" + r.fhirType() + "/" + r.getIdElement().getIdPart()).setResource(r);
  }
}
