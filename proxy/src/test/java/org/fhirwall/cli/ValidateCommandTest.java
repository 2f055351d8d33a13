package org.fhirwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fhirwall validate}: its output shape ({@code file:line:column: key: problem}) and exit codes are a contract. */
class ValidateCommandTest {
  static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies"));

  @TempDir
  Path dir;

  record Run(int exit, String out, String err) {}

  static Run validate(String... paths) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine c = new CommandLine(new Main());
    c.setOut(new PrintWriter(out, true));
    c.setErr(new PrintWriter(err, true));
    String[] args = new String[paths.length + 1];
    args[0] = "validate";
    System.arraycopy(paths, 0, args, 1, paths.length);
    return new Run(c.execute(args), out.toString(), err.toString());
  }

  @Test
  void theShippedPoliciesAreValid() {
    Run r = validate(POLICIES.resolve("roles").toString(), POLICIES.resolve("demo").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("role physician OK").contains("role clinician OK").contains("file(s) valid");
  }

  @Test
  void eachProblemIsOneLineNamingFileLineColumnAndKeyAndTheExitCodeIsOne() throws Exception {
    Path role = Files.writeString(dir.resolve("nurse.yaml"), """
        role: nurse
        applies-to: {roles: [nurse]}
        authentication: {amr-any-of: [otp, pwd]}
        interactions: [read, search-type]
        resource-types: [Patient]
        patient-limits: [{window: 1h, max: 30}]
        search: {max-count: 50}
        """);
    Run r = validate(role.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().lines().toList()).containsExactly(
        role + ":3:36: authentication.amr-any-of[1]: pwd (expected: a second factor such as otp, hwk, swk or mfa; a token "
            + "showing only pwd would pass; pwd, pin, kba, wia, geo, rba, user are not a second factor)",
        role + ":7:21: search.max-count: 50 is more than the role's smallest patient limit (30 in 1h): one search page could "
            + "take a principal over it (expected: at most 30)");
    assertThat(r.out()).contains("2 problem(s) in 1 file(s)");
    assertThat(validate(dir.resolve("missing.yaml").toString()).exit()).isEqualTo(1);
  }

  @Test
  void aDeploymentFileIsValidatedWithItsPoliciesAndWarnsAboutAnyClient() throws Exception {
    Path roles = Files.createDirectories(dir.resolve("roles"));
    Files.copy(POLICIES.resolve("roles").resolve("physician.yaml"), roles.resolve("physician.yaml"));
    Path deployment = Files.writeString(dir.resolve("fhirwall.yaml"), """
        upstream: {url: http://epr:8080/fhir}
        identity: {issuer: https://sso.example/realms/h, audience: [fhirwall]}
        policies: roles
        """);
    Run r = validate(deployment.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains(deployment + ": warning: identity.clients is empty: every client of https://sso.example/realms/h");

    Files.writeString(deployment, Files.readString(deployment).replace("audience: [fhirwall]",
        "audience: [fhirwall], clients: [web], non-mfa-acr: [\"0\", \"1\", pwd, silver]"));
    Files.writeString(roles.resolve("physician.yaml"), Files.readString(roles.resolve("physician.yaml"))
        .replace("amr-any-of: [otp, hwk]\n  max-age: 12h", "acr: [silver]\n  max-age: 12h"));
    Run strict = validate(deployment.toString());
    assertThat(strict.exit()).isEqualTo(1);
    assertThat(strict.out()).doesNotContain("warning");
    assertThat(strict.err()).contains("physician.yaml:16:9: authentication.acr[0]: silver (expected: an acr that means MFA; "
        + "identity.non-mfa-acr lists 0, 1, pwd, silver as not MFA)");
  }

  @Test
  void aDeploymentThatNamesTheEprsPageHoldsEveryRolesMaxCountToIt() throws Exception {
    Path roles = Files.createDirectories(dir.resolve("paged"));
    Files.copy(POLICIES.resolve("roles").resolve("physician.yaml"), roles.resolve("physician.yaml"));
    Path deployment = Files.writeString(dir.resolve("paged.yaml"), """
        upstream: {url: http://epr:8080/fhir, max-page-size: 20}
        identity: {issuer: https://sso.example/realms/h, audience: [fhirwall], clients: [web]}
        policies: paged
        """);
    assertThat(validate(deployment.toString()).exit()).as("physician's max-count is 20").isZero();

    Files.writeString(deployment, Files.readString(deployment).replace("max-page-size: 20", "max-page-size: 10"));
    Run r = validate(deployment.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("physician.yaml:58:14: search.max-count: 20 is more than the EPR's largest page "
        + "(upstream.max-page-size 10)");
  }
}
