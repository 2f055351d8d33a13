package org.fhirwall.it;

import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link PagingCases} through fhirwall to the run's HAPI FHIR JPA server. */
@ExtendWith(JpaEprExtension.class)
class PagingJpaIT extends PagingCases {
  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
  }
}
