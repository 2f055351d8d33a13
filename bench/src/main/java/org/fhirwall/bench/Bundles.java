package org.fhirwall.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import ca.uhn.fhir.context.FhirContext;
import java.util.Date;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Deterministic searchset Bundles like an EPR returns: a mix of Patients and the clinical
 * resources (Observation, Encounter, MedicationRequest, Condition) that reference patients. Entry
 * {@code i} names patient {@code p{i}}: every fifth entry is that Patient itself, the others
 * reference it as their subject (a patient not carried in the Bundle, as in a search without
 * {@code _include}). So a Bundle of n entries discloses exactly the n patients
 * {@link #patientKeys(int)}; practitioner and encounter references must not count.
 */
public final class Bundles {
  public static final String BASE = "http://epr.example/fhir";

  private Bundles() {}

  /** The number of distinct patients a Bundle of {@code entries} entries discloses. */
  public static int patients(int entries) {
    return entries;
  }

  /** The patient keys (as the inspector names them, {@code Patient/{id}}) such a Bundle discloses. */
  public static Set<String> patientKeys(int entries) {
    return IntStream.range(0, entries).mapToObj(i -> "Patient/p" + i).collect(Collectors.toUnmodifiableSet());
  }

  public static Bundle searchset(int entries) {
    Bundle b = new Bundle().setType(Bundle.BundleType.SEARCHSET);
    b.setTotal(entries);
    b.addLink().setRelation("self").setUrl(BASE + "/Observation?_count=" + entries);
    b.addLink().setRelation("next").setUrl(BASE + "?_getpages=6c0b2f&_getpagesoffset=" + entries + "&_count=" + entries);
    for (int i = 0; i < entries; i++) {
      Resource r = resource(i);
      b.addEntry().setFullUrl(BASE + "/" + r.fhirType() + "/" + r.getIdElement().getIdPart()).setResource(r)
          .getSearch().setMode(Bundle.SearchEntryMode.MATCH);
    }
    return b;
  }

  private static Resource resource(int i) {
    String patient = "Patient/p" + i;
    switch (i % 5) {
      case 0 -> {
        Patient p = new Patient();
        p.setId("p" + i);
        p.addIdentifier().setSystem("https://epr.example/mrn").setValue("MRN" + (1_000_000 + i));
        p.addName(new HumanName().setFamily("Family" + i).addGiven("Given" + i));
        p.setGender(i % 2 == 0 ? Enumerations.AdministrativeGender.FEMALE : Enumerations.AdministrativeGender.MALE);
        p.setBirthDate(new Date(86_400_000L * (3_000 + i)));
        p.addAddress().addLine(i + " rue de la Paix").setCity("Lyon").setPostalCode("69003");
        p.addGeneralPractitioner(new Reference("Practitioner/pr" + (i % 7)));
        return p;
      }
      case 1 -> {
        Observation o = new Observation();
        o.setId("o" + i);
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.setCode(new CodeableConcept(new Coding("http://loinc.org", "8867-4", "Heart rate")));
        o.setSubject(new Reference(patient));
        o.setEncounter(new Reference("Encounter/e" + i));
        o.addPerformer(new Reference("Practitioner/pr" + (i % 7)));
        o.setValue(new Quantity(60 + i % 40).setUnit("beats/min").setSystem("http://unitsofmeasure.org").setCode("/min"));
        return o;
      }
      case 2 -> {
        Encounter e = new Encounter();
        e.setId("e" + i);
        e.setStatus(Encounter.EncounterStatus.FINISHED);
        e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"));
        e.setSubject(new Reference(patient));
        e.addParticipant().setIndividual(new Reference("Practitioner/pr" + (i % 7)));
        return e;
      }
      case 3 -> {
        MedicationRequest m = new MedicationRequest();
        m.setId("m" + i);
        m.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
        m.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
        m.setMedication(new CodeableConcept(new Coding("http://www.nlm.nih.gov/research/umls/rxnorm", "197361", "Amlodipine 5 MG")));
        m.setSubject(new Reference(patient));
        m.setRequester(new Reference("Practitioner/pr" + (i % 7)));
        return m;
      }
      default -> {
        Condition c = new Condition();
        c.setId("c" + i);
        c.setCode(new CodeableConcept(new Coding("http://snomed.info/sct", "38341003", "Hypertension")));
        c.setSubject(new Reference(patient));
        c.setRecorder(new Reference("Practitioner/pr" + (i % 7)));
        return c;
      }
    }
  }

  public static byte[] encode(FhirContext fhir, Bundle b, String format) {
    String text = format.equals("xml") ? fhir.newXmlParser().encodeResourceToString(b) : fhir.newJsonParser().encodeResourceToString(b);
    return text.getBytes(UTF_8);
  }
}
