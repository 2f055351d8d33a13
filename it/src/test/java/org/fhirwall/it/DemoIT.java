package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fhirwall.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fhirwall demo} plays the incident end to end and its JSON report keeps its documented keys. */
class DemoIT {
  /** The clinician role's hourly limit in {@code policies/demo/clinician.yaml}, as the README states it. */
  static final int ROLE_LIMIT = 60;

  @Test
  void theDemoShowsTheIncidentStoppedAndReportsIt(@TempDir Path dir) throws Exception {
    Path report = dir.resolve("report.json");
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true));
    int exit = cli.execute("demo", "--patients", "10000", "--report", report.toString());
    assertThat(exit).as(out.toString()).isZero();
    assertThat(out.toString()).contains("clinician's working day").contains("stolen password").contains("stolen MFA session");

    JsonNode r = new ObjectMapper().readTree(Files.readString(report));
    assertThat(r.path("patients_in_epr").asInt()).isEqualTo(10_000);
    assertThat(r.path("clinician_workday").path("requests_ok").asInt()).isGreaterThan(20);
    assertThat(r.path("clinician_workday").path("requests_refused").asInt()).isZero();
    assertThat(r.path("password_only").path("first_status").asInt()).isEqualTo(401);
    assertThat(r.path("password_only").path("patients_disclosed").asInt()).isZero();
    assertThat(r.path("stolen_mfa_session").path("role_limit").asInt()).isEqualTo(ROLE_LIMIT);
    assertThat(r.path("stolen_mfa_session").path("patients_disclosed").asInt()).isPositive().isLessThanOrEqualTo(ROLE_LIMIT);
    assertThat(r.path("stolen_mfa_session").path("locked").asBoolean()).isTrue();
    assertThat(r.path("stolen_mfa_session").path("alerts").asInt()).isPositive();
    // the workday's patients are all in the clinician's care; the stolen session is cut off by the unexplained
    // budget, after no more strangers than it allows and long before the role's overall limit
    assertThat(r.path("clinician_workday").path("patients_in_care").asInt())
        .isEqualTo(r.path("clinician_workday").path("patients_seen").asInt());
    int unexplained = r.path("stolen_mfa_session").path("unexplained_limit").asInt();
    assertThat(unexplained).isPositive().isLessThan(ROLE_LIMIT);
    assertThat(r.path("stolen_mfa_session").path("cut_off_by_unexplained_limit").asBoolean()).isTrue();
    assertThat(r.path("stolen_mfa_session").path("strangers_disclosed").asInt()).isPositive().isLessThanOrEqualTo(unexplained);
    assertThat(out.toString()).contains("stolen DPoP-bound token");
    assertThat(r.path("stolen_dpop_token").path("owner_status").asInt()).as("the clinician with her key").isEqualTo(200);
    assertThat(r.path("stolen_dpop_token").path("requests_refused").asInt()).isEqualTo(4);
    assertThat(r.path("stolen_dpop_token").path("first_status").asInt()).isEqualTo(401);
    assertThat(r.path("stolen_dpop_token").path("challenge").asText()).startsWith("DPoP ").contains("invalid_dpop_proof");
    assertThat(r.path("stolen_dpop_token").path("patients_disclosed").asInt()).isZero();
  }
}
