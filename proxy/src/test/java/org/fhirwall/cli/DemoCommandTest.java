package org.fhirwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code demo} verb of a product that does not contain the demo. */
class DemoCommandTest {
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @TempDir
  Path dir;

  int fhirwall(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void theHelpStillListsTheDemoVerb() {
    assertThat(fhirwall("--help")).isZero();
    assertThat(out.toString()).containsPattern("(?m)^  demo +Replay the November 2024 incident");
  }

  @Test
  void theVerbHandsItsOptionsToTheDemoJarAndReturnsItsExitCode() throws Exception {
    Path jar = DemoJars.fakeDemo(dir.resolve("fhirwall-demo.jar"));

    int exit = fhirwall("demo", "--demo-jar", jar.toString(), "--verbose", "--patients", "2000", "--seed", "7",
        "--keep-running", "--env-file", "env", "--report", "report.json");

    assertThat(exit).as(err.toString()).isEqualTo(DemoJars.FAKE_EXIT);
    assertThat(out.toString()).contains(
        "fake demo Options[report=report.json, keepRunning=true, envFile=env, patients=2000, seed=7]");
  }

  @Test
  void withoutTheDemoJarTheVerbSaysWhatToBuildAndFails() {
    Path missing = dir.resolve("fhirwall-demo.jar");

    int exit = fhirwall("demo", "--verbose", "--demo-jar", missing.toString());

    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("--demo-jar: " + missing).contains("mvn -q -DskipTests package");
    assertThat(out.toString()).as("nothing started").isEmpty();
  }

  @Test
  void fewerThanAHundredPatientsIsAUsageError() {
    assertThat(fhirwall("demo", "--verbose", "--patients", "99")).isEqualTo(2);
    assertThat(err.toString()).contains("--patients: 99 (expected: at least 100)");
  }
}
