package org.fhirwall.demo;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.EpisodeOfCare;
import org.hl7.fhir.r4.model.Location;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The care relationships of the demo's named clinicians, as an EPR holds them: Dr Claire Martin
 * ({@code Practitioner/pr-martin}) has her working day's 20 patients — 8 through her active
 * encounters, 6 through care teams, 3 through episodes of care she manages, 3 on her ward
 * ({@code Location/ward-a}, through her active PractitionerRole) — plus two finished encounters
 * that no longer count; Dr Paul Durand ({@code Practitioner/pr-durand}) has 5 patients on
 * {@code Location/ward-b}. The patients are the ones {@link DemoStore#samplePatientIds} picks
 * with the same seeds ({@link #MARTIN_SEED}, {@link #DURAND_SEED}), so the script opens exactly
 * Dr Martin's patients. Deterministic; loaded before the synthetic hospital with an older
 * {@code meta.lastUpdated}, so these relationships have stood longer than fhirwall's write delay.
 */
final class CareAssignments {
  static final long MARTIN_SEED = 7;
  static final long DURAND_SEED = 31;
  static final int MARTIN_PATIENTS = 20;
  static final String MARTIN = "Practitioner/pr-martin";
  static final String DURAND = "Practitioner/pr-durand";

  private CareAssignments() {}

  /** {@code n} distinct ids among {@code p1..pPopulation}, as {@link DemoStore#samplePatientIds} picks them in a full store. */
  static List<String> sample(int population, int n, long seed) {
    Random random = new Random(seed);
    Set<String> ids = new LinkedHashSet<>();
    for (int tries = 0; ids.size() < Math.min(n, population) && tries < n * 100; tries++) {
      ids.add("p" + (1 + random.nextInt(population)));
    }
    return List.copyOf(ids);
  }

  /** Dr Martin's patients (the working day's), as {@code Patient/id}. */
  static List<String> martinsPatients(int population) {
    return sample(population, MARTIN_PATIENTS, MARTIN_SEED).stream().map(id -> "Patient/" + id).toList();
  }

  static List<Resource> resources(int population) {
    List<Resource> out = new ArrayList<>();
    out.add(practitioner("pr-martin", "Martin", "Claire"));
    out.add(practitioner("pr-durand", "Durand", "Paul"));
    out.add(location("ward-a", "Cardiology, ward A"));
    out.add(location("ward-b", "Internal medicine, ward B"));
    out.add(role("role-martin", MARTIN, "Location/ward-a"));
    out.add(role("role-durand", DURAND, "Location/ward-b"));
    List<String> martin = martinsPatients(population);
    for (int i = 0; i < martin.size(); i++) {
      String patient = martin.get(i);
      if (i < 8) {
        out.add(encounter("ce-m" + (i + 1), patient, Encounter.EncounterStatus.INPROGRESS, MARTIN, null));
      } else if (i < 14) {
        CareTeam team = new CareTeam();
        team.setId("ct-m" + (i - 7));
        team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
        team.setSubject(new Reference(patient));
        team.addParticipant().setMember(new Reference(MARTIN));
        out.add(team);
      } else if (i < 17) {
        EpisodeOfCare episode = new EpisodeOfCare();
        episode.setId("eoc-m" + (i - 13));
        episode.setStatus(EpisodeOfCare.EpisodeOfCareStatus.ACTIVE);
        episode.setPatient(new Reference(patient));
        episode.setCareManager(new Reference(MARTIN));
        out.add(episode);
      } else {
        out.add(encounter("ce-wa" + (i - 16), patient, Encounter.EncounterStatus.INPROGRESS, "Practitioner/pr1", "Location/ward-a"));
      }
    }
    List<String> past = sample(population, 2, 101).stream().map(id -> "Patient/" + id).toList();
    for (int i = 0; i < past.size(); i++) {
      out.add(encounter("ce-old" + (i + 1), past.get(i), Encounter.EncounterStatus.FINISHED, MARTIN, null));
    }
    List<String> durand = sample(population, 5, DURAND_SEED).stream().map(id -> "Patient/" + id).toList();
    for (int i = 0; i < durand.size(); i++) {
      out.add(encounter("ce-wb" + (i + 1), durand.get(i), Encounter.EncounterStatus.INPROGRESS, DURAND, "Location/ward-b"));
    }
    return out;
  }

  private static Practitioner practitioner(String id, String family, String given) {
    Practitioner p = new Practitioner();
    p.setId(id);
    p.setActive(true);
    p.addName().setFamily(family).addGiven(given).addPrefix("Dr");
    return p;
  }

  private static Location location(String id, String name) {
    Location l = new Location();
    l.setId(id);
    l.setName(name);
    return l;
  }

  private static PractitionerRole role(String id, String practitioner, String location) {
    PractitionerRole r = new PractitionerRole();
    r.setId(id);
    r.setActive(true);
    r.setPractitioner(new Reference(practitioner));
    r.addLocation(new Reference(location));
    return r;
  }

  private static Encounter encounter(String id, String patient, Encounter.EncounterStatus status, String practitioner,
      String location) {
    Encounter e = new Encounter();
    e.setId(id);
    e.setStatus(status);
    e.setSubject(new Reference(patient));
    e.addParticipant().setIndividual(new Reference(practitioner));
    if (location != null) {
      e.addLocation().setLocation(new Reference(location));
    }
    return e;
  }
}
