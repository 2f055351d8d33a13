package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.fhirwall.demo.DemoEnvironment;
import org.fhirwall.demo.DemoReport;
import org.fhirwall.demo.IncidentScript;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shipped clinical roles let a clinician's ordinary day through: the demo's working day (20
 * patients' charts: the patient, their observations, conditions and medications, and one
 * {@code $everything} where the role allows it) stays under every limit of each role it applies
 * to, with fhirwall running the shipped {@code policies/roles} in front of a real HAPI FHIR server.
 * A limit tight enough to catch mass extraction must not lock out a doctor on an ordinary day.
 */
class ShippedRolesWorkdayIT {
  static DemoEnvironment env;
  static IncidentScript script;

  @BeforeAll
  static void start() throws Exception {
    Path roles = Path.of(System.getProperty("fhirwall.policies.dir", "../policies")).resolve("roles");
    env = DemoEnvironment.start(new DemoEnvironment.Settings(2000, 11, roles));
    script = new IncidentScript(env);
  }

  @AfterAll
  static void stop() {
    if (env != null) {
      env.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"physician, true", "emergency, true", "nurse, false"})
  void anOrdinaryWorkingDayStaysUnderEveryLimitOfTheRole(String role, boolean everything) throws Exception {
    // a login half an hour ago (within every role's max-age, and the physician's $everything
    // freshness); a chart every 250 ms, far quicker than a person, slower than a script
    DemoReport.Workday day = script.workday(Set.of(role), Duration.ofMinutes(30), everything, Duration.ofMillis(250));
    assertThat(day.requestsRefused()).as("requests refused for a %s's ordinary day", role).isZero();
    assertThat(day.requestsOk()).isEqualTo(everything ? 81 : 80);
    assertThat(day.patientsSeen()).isEqualTo(20);
  }
}
