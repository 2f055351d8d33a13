package org.fhirwall.it;

import org.junit.jupiter.api.BeforeAll;

/** {@link PagingCases} through fhirwall to the demo's EPR holding 300 patients. */
class PagingIT extends PagingCases {
  @BeforeAll
  void start() throws Exception {
    it = ItEnvironment.start(300);
  }
}
