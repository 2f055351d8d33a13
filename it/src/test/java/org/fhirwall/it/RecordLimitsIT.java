package org.fhirwall.it;

import org.junit.jupiter.api.BeforeAll;

/** {@link RecordLimitsCases} through fhirwall to the demo's EPR holding 3,000 patients. */
class RecordLimitsIT extends RecordLimitsCases {
  @BeforeAll
  void start() throws Exception {
    use(ItEnvironment.start(3000));
  }
}
