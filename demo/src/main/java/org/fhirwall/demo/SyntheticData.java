package org.fhirwall.demo;

import static org.fhirwall.demo.SyntheticVocabulary.ACT_CODE;
import static org.fhirwall.demo.SyntheticVocabulary.CITIES;
import static org.fhirwall.demo.SyntheticVocabulary.CONDITIONS;
import static org.fhirwall.demo.SyntheticVocabulary.CONDITION_CLINICAL;
import static org.fhirwall.demo.SyntheticVocabulary.DOCUMENT_TYPES;
import static org.fhirwall.demo.SyntheticVocabulary.ENCOUNTER_CLASSES;
import static org.fhirwall.demo.SyntheticVocabulary.FAMILY;
import static org.fhirwall.demo.SyntheticVocabulary.GIVEN_FEMALE;
import static org.fhirwall.demo.SyntheticVocabulary.GIVEN_MALE;
import static org.fhirwall.demo.SyntheticVocabulary.MEDICATIONS;
import static org.fhirwall.demo.SyntheticVocabulary.MRN_SYSTEM;
import static org.fhirwall.demo.SyntheticVocabulary.NIR_SYSTEM;
import static org.fhirwall.demo.SyntheticVocabulary.OBSERVATIONS;
import static org.fhirwall.demo.SyntheticVocabulary.OBSERVATION_CATEGORY;
import static org.fhirwall.demo.SyntheticVocabulary.ORGANIZATIONS;
import static org.fhirwall.demo.SyntheticVocabulary.RPPS_SYSTEM;
import static org.fhirwall.demo.SyntheticVocabulary.STREETS;
import static org.fhirwall.demo.SyntheticVocabulary.UCUM;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TimeZone;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.Enumerations.DocumentReferenceStatus;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * A synthetic hospital: patients with their clinical records, the practitioners and organizations
 * they refer to, a few groups and a few documents. The same seed and size always give the same
 * data, whatever the clock, time zone or machine (dates lie in the five years before 2025-01-01).
 *
 * <p>Ids are plain and predictable: Patient {@code p1..pN}; Observation {@code o1..}, Condition
 * {@code c1..}, MedicationRequest {@code m1..}, Encounter {@code e1..} (about 3, 1, 1 and 1 per
 * patient); Practitioner {@code pr1..} (N/500, between 5 and 40); Organization {@code org1..org3};
 * Group {@code g1} (every fourth patient, starting with p1: the large one), {@code g2} (p2..p11)
 * and {@code g3} (25 patients); DocumentReference {@code d1..} with Binary {@code b1..} (N/500,
 * between 3 and 40), where Binary {@code bK}'s securityContext is DocumentReference {@code dK}
 * for odd K and the document's Patient for even K.
 *
 * <p>Immutable and thread-safe: {@link #resources()} hands out copies.
 */
public final class SyntheticData {

  /** The id of the group holding a quarter of all patients. */
  public static final String LARGE_GROUP_ID = "g1";

  private static final LocalDate HISTORY_END = LocalDate.of(2025, 1, 1);
  private static final int HISTORY_DAYS = 5 * 365;
  private static final LocalDate OLDEST_BIRTH = LocalDate.of(1930, 1, 1);
  private static final int BIRTH_DAYS = 94 * 365;

  private final long seed;
  private final int patients;
  private final List<Resource> resources;
  private final Map<String, Integer> counts;

  private SyntheticData(long seed, int patients, List<Resource> resources) {
    this.seed = seed;
    this.patients = patients;
    this.resources = Collections.unmodifiableList(resources);
    Map<String, Integer> byType = new LinkedHashMap<>();
    for (Resource resource : resources) {
      byType.merge(resource.fhirType(), 1, Integer::sum);
    }
    this.counts = Collections.unmodifiableMap(byType);
  }

  /**
   * Generates a hospital of {@code patients} patients from {@code seed}; about 70,000 resources
   * for 10,000 patients, in well under a second on one core.
   */
  public static SyntheticData generate(long seed, int patients) {
    if (patients < 1) {
      throw new IllegalArgumentException("patients: " + patients + " (expected: > 0)");
    }
    return new SyntheticData(seed, patients, new Generator(new Random(seed), patients).run());
  }

  public long seed() {
    return seed;
  }

  public int patients() {
    return patients;
  }

  /** How many resources of this type there are (0 for a type the hospital does not hold). */
  public int count(String resourceType) {
    return counts.getOrDefault(resourceType, 0);
  }

  /** Resource counts by type, in load order. */
  public Map<String, Integer> counts() {
    return counts;
  }

  /** Deep copies of all resources in load order (referenced resources before those referring to them). */
  public List<Resource> resources() {
    List<Resource> copies = new ArrayList<>(resources.size());
    for (Resource resource : resources) {
      copies.add(resource.copy());
    }
    return copies;
  }

  /** The generated objects themselves; callers must not modify them. */
  List<Resource> shared() {
    return resources;
  }

  /** One generation run; not thread-safe, used once. */
  private static final class Generator {
    private final Random random;
    private final int patients;
    private final int practitioners;
    private final int documents;
    private final TimeZone utc = TimeZone.getTimeZone(ZoneOffset.UTC);
    private final List<Resource> out = new ArrayList<>();
    private final Map<String, String> patientNames = new LinkedHashMap<>();
    private int observations;
    private int conditions;
    private int medications;
    private int encounters;

    Generator(Random random, int patients) {
      this.random = random;
      this.patients = patients;
      this.practitioners = Math.max(5, Math.min(40, patients / 500));
      this.documents = Math.max(3, Math.min(40, patients / 500));
    }

    List<Resource> run() {
      for (int i = 1; i <= ORGANIZATIONS.size(); i++) {
        out.add(organization(i));
      }
      for (int i = 1; i <= practitioners; i++) {
        out.add(practitioner(i));
      }
      for (int i = 1; i <= patients; i++) {
        patientWithRecord(i);
      }
      groups();
      for (int i = 1; i <= documents; i++) {
        document(i);
      }
      return out;
    }

    private Organization organization(int i) {
      Organization org = new Organization();
      org.setId("org" + i);
      org.setActive(true);
      org.setName(ORGANIZATIONS.get(i - 1));
      org.addIdentifier().setSystem("urn:oid:1.2.250.1.71.4.2.2").setValue("1" + (750000000 + i * 1111));
      return org;
    }

    private Practitioner practitioner(int i) {
      Practitioner practitioner = new Practitioner();
      practitioner.setId("pr" + i);
      practitioner.setActive(true);
      practitioner.addIdentifier().setSystem(RPPS_SYSTEM).setValue(digits(11));
      boolean female = random.nextBoolean();
      practitioner.addName().setFamily(pick(FAMILY)).addGiven(pick(female ? GIVEN_FEMALE : GIVEN_MALE))
          .addPrefix("Dr");
      practitioner.setGender(female ? AdministrativeGender.FEMALE : AdministrativeGender.MALE);
      return practitioner;
    }

    private void patientWithRecord(int i) {
      String patientRef = "Patient/p" + i;
      Patient patient = patient(i);
      out.add(patient);
      List<String> encounterRefs = new ArrayList<>();
      int encounterCount = random.nextInt(3);
      for (int k = 0; k < encounterCount; k++) {
        Encounter encounter = encounter(patientRef);
        encounterRefs.add("Encounter/" + encounter.getIdPart());
        out.add(encounter);
      }
      int observationCount = 1 + random.nextInt(5);
      for (int k = 0; k < observationCount; k++) {
        out.add(observation(patientRef, encounterRefs));
      }
      int conditionCount = random.nextInt(3);
      for (int k = 0; k < conditionCount; k++) {
        out.add(condition(patientRef));
      }
      int medicationCount = random.nextInt(3);
      for (int k = 0; k < medicationCount; k++) {
        out.add(medicationRequest(patientRef));
      }
    }

    private Patient patient(int i) {
      Patient patient = new Patient();
      patient.setId("p" + i);
      patient.setActive(true);
      int genderRoll = random.nextInt(100);
      AdministrativeGender gender = genderRoll < 49 ? AdministrativeGender.FEMALE
          : genderRoll < 98 ? AdministrativeGender.MALE
          : genderRoll < 99 ? AdministrativeGender.OTHER : AdministrativeGender.UNKNOWN;
      boolean female = gender == AdministrativeGender.FEMALE
          || (gender != AdministrativeGender.MALE && random.nextBoolean());
      LocalDate birth = OLDEST_BIRTH.plusDays(random.nextInt(BIRTH_DAYS));

      patient.addIdentifier().setSystem(MRN_SYSTEM).setValue(mrn(i));
      patient.addIdentifier().setSystem(NIR_SYSTEM).setValue(nir(female, birth));
      String family = pick(FAMILY);
      String given = pick(female ? GIVEN_FEMALE : GIVEN_MALE);
      HumanName name = patient.addName().setUse(HumanName.NameUse.OFFICIAL).setFamily(family).addGiven(given);
      if (random.nextInt(4) == 0) {
        name.addGiven(pick(female ? GIVEN_FEMALE : GIVEN_MALE));
      }
      patientNames.put("p" + i, given + " " + family);
      patient.setGender(gender);
      patient.getBirthDateElement().setValueAsString(birth.toString());
      List<String> city = pick(CITIES);
      patient.addAddress().setUse(Address.AddressUse.HOME)
          .addLine((1 + random.nextInt(140)) + " " + pick(STREETS))
          .setCity(city.get(0)).setPostalCode(city.get(1)).setCountry("FR");
      patient.addTelecom().setSystem(ContactPoint.ContactPointSystem.PHONE)
          .setUse(ContactPoint.ContactPointUse.MOBILE).setValue("+33 6 " + digits(2) + " " + digits(2)
              + " " + digits(2) + " " + digits(2));
      patient.addGeneralPractitioner(new Reference("Practitioner/pr" + (1 + random.nextInt(practitioners))));
      patient.setManagingOrganization(new Reference("Organization/org1"));
      return patient;
    }

    private Encounter encounter(String patientRef) {
      Encounter encounter = new Encounter();
      encounter.setId("e" + (++encounters));
      encounter.setStatus(Encounter.EncounterStatus.FINISHED);
      SyntheticVocabulary.Concept kind = pick(ENCOUNTER_CLASSES);
      encounter.setClass_(new Coding(ACT_CODE, kind.code(), kind.display()));
      encounter.setSubject(new Reference(patientRef));
      encounter.addParticipant().setIndividual(new Reference("Practitioner/pr" + (1 + random.nextInt(practitioners))));
      Instant start = pastInstant();
      long hours = "IMP".equals(kind.code()) ? 24L * (1 + random.nextInt(10)) : 1 + random.nextInt(4);
      encounter.setPeriod(new Period().setStartElement(dateTime(start))
          .setEndElement(dateTime(start.plusSeconds(hours * 3600))));
      encounter.setServiceProvider(new Reference("Organization/org" + (1 + random.nextInt(2))));
      return encounter;
    }

    private Observation observation(String patientRef, List<String> encounterRefs) {
      SyntheticVocabulary.ObservationKind kind = pick(OBSERVATIONS);
      Observation observation = new Observation();
      observation.setId("o" + (++observations));
      observation.setStatus(Observation.ObservationStatus.FINAL);
      observation.addCategory().addCoding().setSystem(OBSERVATION_CATEGORY).setCode(kind.category());
      observation.setCode(new CodeableConcept().addCoding(new Coding(SyntheticVocabulary.LOINC, kind.code(), kind.display()))
          .setText(kind.display()));
      observation.setSubject(new Reference(patientRef));
      if (!encounterRefs.isEmpty() && random.nextBoolean()) {
        observation.setEncounter(new Reference(encounterRefs.get(random.nextInt(encounterRefs.size()))));
      }
      observation.setEffective(dateTime(pastInstant()));
      double value = kind.low() + random.nextDouble() * (kind.high() - kind.low());
      observation.setValue(new Quantity()
          .setValue(BigDecimal.valueOf(value).setScale(kind.decimals(), RoundingMode.HALF_UP))
          .setUnit(kind.unit()).setSystem(UCUM).setCode(kind.unit()));
      return observation;
    }

    private Condition condition(String patientRef) {
      SyntheticVocabulary.Concept concept = pick(CONDITIONS);
      Condition condition = new Condition();
      condition.setId("c" + (++conditions));
      boolean active = random.nextInt(4) != 0;
      condition.setClinicalStatus(new CodeableConcept().addCoding(
          new Coding(CONDITION_CLINICAL, active ? "active" : "resolved", null)));
      condition.setCode(new CodeableConcept().addCoding(new Coding(concept.system(), concept.code(), concept.display()))
          .setText(concept.display()));
      condition.setSubject(new Reference(patientRef));
      condition.setOnset(dateTime(pastInstant()));
      return condition;
    }

    private MedicationRequest medicationRequest(String patientRef) {
      SyntheticVocabulary.Concept concept = pick(MEDICATIONS);
      MedicationRequest request = new MedicationRequest();
      request.setId("m" + (++medications));
      request.setStatus(random.nextInt(3) == 0
          ? MedicationRequest.MedicationRequestStatus.COMPLETED : MedicationRequest.MedicationRequestStatus.ACTIVE);
      request.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
      request.setMedication(new CodeableConcept().addCoding(new Coding(concept.system(), concept.code(), concept.display()))
          .setText(concept.display()));
      request.setSubject(new Reference(patientRef));
      request.setAuthoredOnElement(dateTime(pastInstant()));
      request.setRequester(new Reference("Practitioner/pr" + (1 + random.nextInt(practitioners))));
      request.addDosageInstruction().setText((1 + random.nextInt(3)) + " tablet(s) per day");
      return request;
    }

    private void groups() {
      Group large = group("g1", "Suivi chronique (cohorte)");
      for (int i = 1; i <= patients; i += 4) {
        large.addMember().setEntity(new Reference("Patient/p" + i));
      }
      Group small = group("g2", "Consultation du jour");
      for (int i = 2; i <= Math.min(patients, 11); i++) {
        small.addMember().setEntity(new Reference("Patient/p" + i));
      }
      Group study = group("g3", "Essai clinique DEMO-01");
      TreeSet<Integer> chosen = new TreeSet<>();
      while (chosen.size() < Math.min(25, patients)) {
        chosen.add(1 + random.nextInt(patients));
      }
      for (int i : chosen) {
        study.addMember().setEntity(new Reference("Patient/p" + i));
      }
      for (Group group : List.of(large, small, study)) {
        group.setQuantity(group.getMember().size());
        out.add(group);
      }
    }

    private Group group(String id, String name) {
      Group group = new Group();
      group.setId(id);
      group.setActive(true);
      group.setType(Group.GroupType.PERSON);
      group.setActual(true);
      group.setName(name);
      group.setManagingEntity(new Reference("Organization/org1"));
      return group;
    }

    private void document(int i) {
      int patient = 1 + random.nextInt(patients);
      String patientRef = "Patient/p" + patient;
      SyntheticVocabulary.Concept type = pick(DOCUMENT_TYPES);
      Instant when = pastInstant();
      String text = type.display() + " — " + patientNames.get("p" + patient) + " (p" + patient + "), "
          + LocalDate.ofInstant(when, ZoneOffset.UTC) + ". Patient seen; plan unchanged.\n";

      DocumentReference document = new DocumentReference();
      document.setId("d" + i);
      document.setStatus(DocumentReferenceStatus.CURRENT);
      document.setType(new CodeableConcept().addCoding(new Coding(type.system(), type.code(), type.display())));
      document.setSubject(new Reference(patientRef));
      document.setDate(Date.from(when));
      document.addAuthor(new Reference("Practitioner/pr" + (1 + random.nextInt(practitioners))));
      document.setDescription(type.display());
      document.addContent().getAttachment().setContentType("text/plain").setLanguage("fr")
          .setUrl("Binary/b" + i).setTitle(type.display()).setSize(text.getBytes(StandardCharsets.UTF_8).length);
      out.add(document);

      Binary binary = new Binary();
      binary.setId("b" + i);
      binary.setContentType("text/plain");
      binary.setData(text.getBytes(StandardCharsets.UTF_8));
      binary.setSecurityContext(new Reference(i % 2 == 1 ? "DocumentReference/d" + i : patientRef));
      out.add(binary);
    }

    private DateTimeType dateTime(Instant instant) {
      return new DateTimeType(Date.from(instant), TemporalPrecisionEnum.SECOND, utc);
    }

    private Instant pastInstant() {
      long seconds = (long) random.nextInt(HISTORY_DAYS) * 86_400L + random.nextInt(86_400);
      return HISTORY_END.atStartOfDay(ZoneOffset.UTC).toInstant().minusSeconds(HISTORY_DAYS * 86_400L - seconds);
    }

    /** A French social security number (NIR) shape: sex, birth year and month, place, order, key. */
    private String nir(boolean female, LocalDate birth) {
      String body = (female ? "2" : "1") + twoDigits(birth.getYear() % 100) + twoDigits(birth.getMonthValue())
          + twoDigits(1 + random.nextInt(95)) + digits(3) + digits(3);
      long key = 97 - Long.parseLong(body) % 97;
      return body + twoDigits((int) key);
    }

    private static String twoDigits(int value) {
      return value < 10 ? "0" + value : Integer.toString(value);
    }

    private static String mrn(int i) {
      String digits = Integer.toString(i);
      return "MRN" + "0000000".substring(Math.min(7, digits.length())) + digits;
    }

    private String digits(int n) {
      StringBuilder digits = new StringBuilder(n);
      for (int k = 0; k < n; k++) {
        digits.append((char) ('0' + random.nextInt(10)));
      }
      return digits.toString();
    }

    private <T> T pick(List<T> list) {
      return list.get(random.nextInt(list.size()));
    }
  }
}
