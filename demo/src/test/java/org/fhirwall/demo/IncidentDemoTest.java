package org.fhirwall.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ServiceLoader;
import org.fhirwall.cli.Demo;
import org.junit.jupiter.api.Test;

/** The demo module registers the demo the product's {@code demo} verb looks for. */
class IncidentDemoTest {

  @Test
  void theVerbFindsTheIncidentDemoThroughTheServiceLoader() {
    assertThat(ServiceLoader.load(Demo.class).stream().map(ServiceLoader.Provider::type))
        .containsExactly(IncidentDemo.class);
  }
}
