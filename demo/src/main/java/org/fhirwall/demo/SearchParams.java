package org.fhirwall.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.EpisodeOfCare;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Location;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.jspecify.annotations.Nullable;

/**
 * The resource types the demo EPR holds and the search parameters it indexes for each, with the
 * functions that pull index values out of a resource. Immutable.
 *
 * <p>Index values by kind: {@code STRING} the raw text; {@code TOKEN} {@code system|code} (empty
 * system allowed); {@code DATE} {@code yyyy-MM-dd}; {@code REFERENCE} {@code Type/id}.
 * Extractors only read through {@code has...()} guards, so they never grow a resource.
 */
final class SearchParams {

  /** How a parameter's values are indexed and matched. */
  enum Kind { STRING, TOKEN, DATE, REFERENCE }

  /** One search parameter of one resource type. {@code targets}: for references, the types a bare id may name. */
  record Def(String name, Kind kind, Function<Resource, List<String>> values, List<String> targets) {}

  /** The types this EPR serves, with the prefix of the ids it assigns on create. */
  static final Map<String, String> ID_PREFIXES = orderedMap(
      "Organization", "org", "Practitioner", "pr", "Location", "loc", "PractitionerRole", "role", "Patient", "p",
      "Encounter", "e", "Observation", "o", "Condition", "c", "MedicationRequest", "m", "Group", "g",
      "DocumentReference", "d", "Binary", "b", "CareTeam", "ct", "EpisodeOfCare", "eoc");

  /** Types whose {@code patient} parameter places them in a patient's compartment, in $everything order. */
  static final List<String> COMPARTMENT_TYPES =
      List.of("Encounter", "Observation", "Condition", "MedicationRequest", "DocumentReference");

  /** Types a patient's $everything also returns when the record refers to them. */
  static final Set<String> EVERYTHING_REFERENCED = Set.of("Practitioner", "Organization");

  private static final String GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender";
  private static final List<String> PATIENT = List.of("Patient");

  private static final Map<String, Map<String, Def>> BY_TYPE = build();

  private SearchParams() {}

  /** The indexed parameters of {@code type} by name ({@code _id} is implicit); empty for an unknown type. */
  static Map<String, Def> of(String type) {
    return BY_TYPE.getOrDefault(type, Map.of());
  }

  static boolean isKnownType(String type) {
    return ID_PREFIXES.containsKey(type);
  }

  /** The index values of every parameter of {@code resource}'s type, each passed through {@code canonical}. */
  static Map<String, List<String>> extract(Resource resource, UnaryOperator<String> canonical) {
    Map<String, Def> defs = of(resource.fhirType());
    if (defs.isEmpty()) {
      return Map.of();
    }
    Map<String, List<String>> keys = new LinkedHashMap<>();
    for (Def def : defs.values()) {
      List<String> values = def.values().apply(resource);
      if (!values.isEmpty()) {
        String[] canonicalValues = new String[values.size()];
        for (int i = 0; i < canonicalValues.length; i++) {
          canonicalValues[i] = canonical.apply(values.get(i));
        }
        keys.put(def.name(), List.of(canonicalValues));
      }
    }
    return Map.copyOf(keys);
  }

  /** {@code Type/id} for a reference to a resource on this server, or null (contained, urn, absent). */
  static @Nullable String referenceKey(Reference reference) {
    if (!reference.hasReference()) {
      return null;
    }
    String value = reference.getReference();
    if (value.startsWith("#") || value.startsWith("urn:")) {
      return null;
    }
    int slash = value.indexOf('/');
    if (slash > 0 && slash == value.lastIndexOf('/') && slash < value.length() - 1 && value.indexOf('?') < 0) {
      return value;
    }
    IdType id = new IdType(value);
    if (!id.hasResourceType() || !id.hasIdPart()) {
      return null;
    }
    return id.getResourceType() + "/" + id.getIdPart();
  }

  private static Map<String, Map<String, Def>> build() {
    Map<String, Map<String, Def>> all = new LinkedHashMap<>();
    all.put("Patient", defs(
        string("name", r -> names(((Patient) r).hasName() ? ((Patient) r).getName() : List.of(), true, true)),
        string("family", r -> names(((Patient) r).hasName() ? ((Patient) r).getName() : List.of(), true, false)),
        string("given", r -> names(((Patient) r).hasName() ? ((Patient) r).getName() : List.of(), false, true)),
        new Def("birthdate", Kind.DATE, r -> ((Patient) r).hasBirthDate()
            ? List.of(day(((Patient) r).getBirthDateElement().getValueAsString())) : List.of(), List.of()),
        token("gender", r -> ((Patient) r).hasGender()
            ? List.of(GENDER_SYSTEM + "|" + ((Patient) r).getGender().toCode()) : List.of()),
        token("identifier", r -> identifiers(((Patient) r).hasIdentifier() ? ((Patient) r).getIdentifier() : List.of())),
        reference("general-practitioner", List.of("Practitioner", "Organization"),
            r -> refs(((Patient) r).hasGeneralPractitioner() ? ((Patient) r).getGeneralPractitioner() : List.of())),
        reference("organization", List.of("Organization"), r -> ((Patient) r).hasManagingOrganization()
            ? refs(List.of(((Patient) r).getManagingOrganization())) : List.of())));
    all.put("Observation", defs(
        subject(r -> ((Observation) r).hasSubject() ? ((Observation) r).getSubject() : null),
        patient(r -> ((Observation) r).hasSubject() ? ((Observation) r).getSubject() : null),
        token("code", r -> ((Observation) r).hasCode() ? codes(((Observation) r).getCode()) : List.of()),
        token("category", r -> {
          List<String> out = new ArrayList<>();
          if (((Observation) r).hasCategory()) {
            ((Observation) r).getCategory().forEach(c -> out.addAll(codes(c)));
          }
          return out;
        }),
        reference("encounter", List.of("Encounter"), r -> ((Observation) r).hasEncounter()
            ? refs(List.of(((Observation) r).getEncounter())) : List.of()),
        new Def("date", Kind.DATE, r -> ((Observation) r).hasEffectiveDateTimeType()
            ? List.of(day(((Observation) r).getEffectiveDateTimeType().getValueAsString())) : List.of(), List.of())));
    all.put("Condition", defs(
        subject(r -> ((Condition) r).hasSubject() ? ((Condition) r).getSubject() : null),
        patient(r -> ((Condition) r).hasSubject() ? ((Condition) r).getSubject() : null),
        token("code", r -> ((Condition) r).hasCode() ? codes(((Condition) r).getCode()) : List.of())));
    all.put("MedicationRequest", defs(
        subject(r -> ((MedicationRequest) r).hasSubject() ? ((MedicationRequest) r).getSubject() : null),
        patient(r -> ((MedicationRequest) r).hasSubject() ? ((MedicationRequest) r).getSubject() : null),
        token("code", r -> ((MedicationRequest) r).hasMedicationCodeableConcept()
            ? codes(((MedicationRequest) r).getMedicationCodeableConcept()) : List.of())));
    all.put("Encounter", defs(
        subject(r -> ((Encounter) r).hasSubject() ? ((Encounter) r).getSubject() : null),
        patient(r -> ((Encounter) r).hasSubject() ? ((Encounter) r).getSubject() : null),
        reference("participant", List.of("Practitioner"), r -> participants((Encounter) r, false)),
        reference("practitioner", List.of("Practitioner"), r -> participants((Encounter) r, true)),
        token("status", r -> ((Encounter) r).hasStatus()
            ? List.of("http://hl7.org/fhir/encounter-status|" + ((Encounter) r).getStatus().toCode()) : List.of()),
        reference("location", List.of("Location"), r -> {
          List<Reference> places = new ArrayList<>();
          if (((Encounter) r).hasLocation()) {
            ((Encounter) r).getLocation().forEach(l -> {
              if (l.hasLocation()) {
                places.add(l.getLocation());
              }
            });
          }
          return refs(places);
        })));
    all.put("CareTeam", defs(
        subject(r -> ((CareTeam) r).hasSubject() ? ((CareTeam) r).getSubject() : null),
        patient(r -> ((CareTeam) r).hasSubject() ? ((CareTeam) r).getSubject() : null),
        reference("participant", List.of("Practitioner"), r -> {
          List<Reference> members = new ArrayList<>();
          if (((CareTeam) r).hasParticipant()) {
            ((CareTeam) r).getParticipant().forEach(m -> {
              if (m.hasMember()) {
                members.add(m.getMember());
              }
            });
          }
          return refs(members);
        }),
        token("status", r -> ((CareTeam) r).hasStatus()
            ? List.of("http://hl7.org/fhir/care-team-status|" + ((CareTeam) r).getStatus().toCode()) : List.of())));
    all.put("EpisodeOfCare", defs(
        patient(r -> ((EpisodeOfCare) r).hasPatient() ? ((EpisodeOfCare) r).getPatient() : null),
        reference("care-manager", List.of("Practitioner"), r -> ((EpisodeOfCare) r).hasCareManager()
            ? refs(List.of(((EpisodeOfCare) r).getCareManager())) : List.of()),
        token("status", r -> ((EpisodeOfCare) r).hasStatus()
            ? List.of("http://hl7.org/fhir/episode-of-care-status|" + ((EpisodeOfCare) r).getStatus().toCode()) : List.of())));
    all.put("PractitionerRole", defs(
        reference("practitioner", List.of("Practitioner"), r -> ((PractitionerRole) r).hasPractitioner()
            ? refs(List.of(((PractitionerRole) r).getPractitioner())) : List.of()),
        reference("location", List.of("Location"), r -> ((PractitionerRole) r).hasLocation()
            ? refs(((PractitionerRole) r).getLocation()) : List.of()),
        token("active", r -> ((PractitionerRole) r).hasActive()
            ? List.of("|" + ((PractitionerRole) r).getActive()) : List.of())));
    all.put("Location", defs(
        string("name", r -> ((Location) r).hasName() ? List.of(((Location) r).getName()) : List.of())));
    all.put("DocumentReference", defs(
        subject(r -> ((DocumentReference) r).hasSubject() ? ((DocumentReference) r).getSubject() : null),
        patient(r -> ((DocumentReference) r).hasSubject() ? ((DocumentReference) r).getSubject() : null),
        token("type", r -> ((DocumentReference) r).hasType() ? codes(((DocumentReference) r).getType()) : List.of())));
    all.put("Group", defs(
        reference("member", PATIENT, r -> {
          List<Reference> entities = new ArrayList<>();
          if (((Group) r).hasMember()) {
            for (Group.GroupMemberComponent member : ((Group) r).getMember()) {
              if (member.hasEntity()) {
                entities.add(member.getEntity());
              }
            }
          }
          return refs(entities);
        })));
    all.put("Practitioner", defs(
        string("name", r -> names(((Practitioner) r).hasName() ? ((Practitioner) r).getName() : List.of(), true, true)),
        string("family", r -> names(((Practitioner) r).hasName() ? ((Practitioner) r).getName() : List.of(), true, false)),
        string("given", r -> names(((Practitioner) r).hasName() ? ((Practitioner) r).getName() : List.of(), false, true)),
        token("identifier", r -> identifiers(((Practitioner) r).hasIdentifier()
            ? ((Practitioner) r).getIdentifier() : List.of()))));
    all.put("Organization", defs(
        string("name", r -> ((Organization) r).hasName() ? List.of(((Organization) r).getName()) : List.of()),
        token("identifier", r -> identifiers(((Organization) r).hasIdentifier()
            ? ((Organization) r).getIdentifier() : List.of()))));
    all.put("Binary", Map.of());
    return Map.copyOf(all);
  }

  private static Map<String, Def> defs(Def... defs) {
    Map<String, Def> byName = new LinkedHashMap<>();
    for (Def def : defs) {
      byName.put(def.name(), def);
    }
    return Collections.unmodifiableMap(byName);
  }

  private static Def string(String name, Function<Resource, List<String>> values) {
    return new Def(name, Kind.STRING, values, List.of());
  }

  private static Def token(String name, Function<Resource, List<String>> values) {
    return new Def(name, Kind.TOKEN, values, List.of());
  }

  private static Def reference(String name, List<String> targets, Function<Resource, List<String>> values) {
    return new Def(name, Kind.REFERENCE, values, targets);
  }

  private static Def subject(Function<Resource, @Nullable Reference> subject) {
    return reference("subject", PATIENT, r -> {
      Reference ref = subject.apply(r);
      return ref == null ? List.of() : refs(List.of(ref));
    });
  }

  private static Def patient(Function<Resource, @Nullable Reference> subject) {
    return reference("patient", PATIENT, r -> {
      Reference ref = subject.apply(r);
      String key = ref == null ? null : referenceKey(ref);
      return key != null && key.startsWith("Patient/") ? List.of(key) : List.of();
    });
  }

  private static List<String> refs(List<Reference> references) {
    List<String> keys = new ArrayList<>(references.size());
    for (Reference reference : references) {
      String key = referenceKey(reference);
      if (key != null) {
        keys.add(key);
      }
    }
    return keys;
  }

  private static List<String> participants(Encounter encounter, boolean practitionersOnly) {
    List<Reference> individuals = new ArrayList<>();
    if (encounter.hasParticipant()) {
      for (Encounter.EncounterParticipantComponent participant : encounter.getParticipant()) {
        if (participant.hasIndividual()) {
          individuals.add(participant.getIndividual());
        }
      }
    }
    List<String> keys = refs(individuals);
    return practitionersOnly ? keys.stream().filter(k -> k.startsWith("Practitioner/")).toList() : keys;
  }

  private static List<String> names(List<HumanName> names, boolean family, boolean given) {
    List<String> out = new ArrayList<>();
    for (HumanName name : names) {
      if (family && name.hasFamily()) {
        out.add(name.getFamily());
      }
      if (given && name.hasGiven()) {
        name.getGiven().forEach(g -> out.add(g.getValue()));
      }
      if (family && given) {
        if (name.hasText()) {
          out.add(name.getText());
        }
        if (name.hasPrefix()) {
          name.getPrefix().forEach(p -> out.add(p.getValue()));
        }
        if (name.hasSuffix()) {
          name.getSuffix().forEach(s -> out.add(s.getValue()));
        }
      }
    }
    out.removeIf(v -> v == null || v.isEmpty());
    return out;
  }

  private static List<String> identifiers(List<Identifier> identifiers) {
    List<String> out = new ArrayList<>();
    for (Identifier identifier : identifiers) {
      if (identifier.hasValue()) {
        out.add((identifier.hasSystem() ? identifier.getSystem() : "") + "|" + identifier.getValue());
      }
    }
    return out;
  }

  private static List<String> codes(CodeableConcept concept) {
    List<String> out = new ArrayList<>();
    if (concept.hasCoding()) {
      for (Coding coding : concept.getCoding()) {
        if (coding.hasCode()) {
          out.add((coding.hasSystem() ? coding.getSystem() : "") + "|" + coding.getCode());
        }
      }
    }
    return out;
  }

  /** The day part of a FHIR date or dateTime; partial dates stand for their first day. */
  private static String day(String value) {
    if (value.length() >= 10) {
      return value.substring(0, 10);
    }
    return value.length() == 7 ? value + "-01" : value + "-01-01";
  }

  private static Map<String, String> orderedMap(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return Collections.unmodifiableMap(map);
  }
}
