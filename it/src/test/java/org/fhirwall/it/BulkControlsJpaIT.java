package org.fhirwall.it;

import java.net.http.HttpResponse;
import java.util.Optional;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link BulkControlsCases} through fhirwall to the run's HAPI FHIR JPA server. */
@ExtendWith(JpaEprExtension.class)
class BulkControlsJpaIT extends BulkControlsCases {
  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    use(ItEnvironment.inFrontOf(epr));
  }

  @Override
  Optional<Boolean> eprHeard(HttpResponse<String> r) {
    return Optional.of(it.eprRequestLog().received(r.headers().firstValue("X-Request-Id").orElseThrow()));
  }
}
