package org.fhirwall.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.fhirwall.care.CareRelationships;
import org.junit.jupiter.api.Test;

/** The benchmark measures what it claims: every other patient of a response explained (up to the clinician's 20), on a hit and a miss. */
class CareLookupBenchTest {

  @Test
  void aHitAndAMissSplitTheResponseAlike() {
    CareLookupBench b = new CareLookupBench();
    b.relationships = 20;
    b.patients = 50;
    b.setUp();
    CareRelationships.Split hit = b.hit();
    CareRelationships.Split miss = b.miss();
    assertThat(hit.explained()).hasSize(20);
    assertThat(hit.unexplained()).hasSize(30);
    assertThat(miss.explained()).isEqualTo(hit.explained());
    assertThat(miss.unexplained()).isEqualTo(hit.unexplained());
  }
}
