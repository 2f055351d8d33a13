package org.fhirwall.it;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.EpisodeOfCare;
import org.hl7.fhir.r4.model.Location;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.PractitionerRole;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CareRelationshipsCases} against the run's HAPI FHIR JPA server: the clinician's relationships
 * are written into the EPR directly (as its own user interface would: an active encounter, a care team,
 * an episode of care, a ward through an active PractitionerRole, and a finished encounter that no longer
 * counts), so fhirwall's default searches run against a real server's search parameters. They were
 * written just now, so this fhirwall counts them after 1 ms ({@code write-delay: 1ms}); the write-delay
 * case runs a fhirwall with the default hour.
 */
@ExtendWith({LeakWatch.class, JpaEprExtension.class})
class CareRelationshipsJpaIT extends CareRelationshipsCases {
  static final String PRACTITIONER = "Practitioner/care-it";
  static ItEnvironment it;
  static List<String> own;
  static List<String> strangers;
  static String former;

  @BeforeAll
  static void start(JpaEpr epr) throws Exception {
    own = epr.samplePatientIds(5, 4101);
    List<String> others = new ArrayList<>(epr.samplePatientIds(60, 4102));
    others.removeAll(own);
    former = others.remove(0);
    strangers = others;
    IGenericClient direct = ItEnvironment.FHIR.newRestfulGenericClient(epr.baseUrl());
    Practitioner p = new Practitioner();
    p.setId("care-it");
    p.addName().setFamily("Care").addGiven("It");
    Location ward = new Location();
    ward.setId("care-it-ward");
    ward.setName("Integration ward");
    PractitionerRole role = new PractitionerRole();
    role.setId("care-it-role");
    role.setActive(true);
    role.setPractitioner(new Reference(PRACTITIONER));
    role.addLocation(new Reference("Location/care-it-ward"));
    CareTeam team = new CareTeam();
    team.setId("care-it-team");
    team.setStatus(CareTeam.CareTeamStatus.ACTIVE);
    team.setSubject(new Reference("Patient/" + own.get(1)));
    team.addParticipant().setMember(new Reference(PRACTITIONER));
    EpisodeOfCare episode = new EpisodeOfCare();
    episode.setId("care-it-episode");
    episode.setStatus(EpisodeOfCare.EpisodeOfCareStatus.ACTIVE);
    episode.setPatient(new Reference("Patient/" + own.get(2)));
    episode.setCareManager(new Reference(PRACTITIONER));
    for (Resource r : List.of(p, ward, role, team, episode,
        encounter("care-it-e1", own.get(0), Encounter.EncounterStatus.INPROGRESS, PRACTITIONER, null),
        encounter("care-it-e2", own.get(3), Encounter.EncounterStatus.INPROGRESS, "Practitioner/pr1", "Location/care-it-ward"),
        encounter("care-it-e3", own.get(4), Encounter.EncounterStatus.INPROGRESS, PRACTITIONER, null),
        encounter("care-it-old", former, Encounter.EncounterStatus.FINISHED, PRACTITIONER, null))) {
      direct.update().resource(r).execute();
    }
    it = ItEnvironment.inFrontOf(epr, "relationships:\n  write-delay: 1ms\n");
  }

  private static Encounter encounter(String id, String patient, Encounter.EncounterStatus status, String practitioner,
      String location) {
    Encounter e = new Encounter();
    e.setId(id);
    e.setStatus(status);
    e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient encounter"));
    e.setSubject(new Reference("Patient/" + patient));
    e.addParticipant().setIndividual(new Reference(practitioner));
    if (location != null) {
      e.addLocation().setLocation(new Reference(location));
    }
    return e;
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  @Override
  ItEnvironment it() {
    return it;
  }

  @Override
  String practitioner() {
    return PRACTITIONER;
  }

  @Override
  List<String> ownPatients() {
    return own;
  }

  @Override
  List<String> strangers() {
    return strangers;
  }

  @Override
  String formerPatient() {
    return former;
  }
}
