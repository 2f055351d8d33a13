package org.fhirwall.it;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CareRelationshipsCases} against the demo EPR, whose Dr Martin has her 20 patients through
 * active encounters, care teams, episodes of care and her ward, recorded two days before it started.
 */
@ExtendWith(LeakWatch.class)
class CareRelationshipsIT extends CareRelationshipsCases {
  static ItEnvironment it;
  static List<String> martins;
  static List<String> strangers;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(2000);
    martins = it.samplePatientIds(20, 7);
    strangers = new ArrayList<>(it.samplePatientIds(80, 4242));
    strangers.removeAll(martins);
    strangers.removeAll(it.samplePatientIds(5, 31));
    strangers.removeAll(it.samplePatientIds(2, 101));
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
    return "Practitioner/pr-martin";
  }

  /** One through each kind: an encounter (0), a care team (8), an episode of care (14), the ward (17), an encounter (1). */
  @Override
  List<String> ownPatients() {
    return List.of(martins.get(0), martins.get(8), martins.get(14), martins.get(17), martins.get(1));
  }

  @Override
  List<String> strangers() {
    return strangers;
  }

  @Override
  String formerPatient() {
    return it.samplePatientIds(2, 101).get(0);
  }
}
