package org.fhirwall.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fhirwall demo}: starts an EPR with synthetic patients, a demo token issuer and fhirwall,
 * all on loopback, and replays the November 2024 incident through fhirwall. The verb checks its
 * options; the demo itself is not in the product and is found by {@link DemoJar}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Replay the November 2024 incident against a synthetic EPR behind fhirwall (loopback only).")
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary as JSON to FILE.")
  @Nullable Path report;

  @Option(names = "--keep-running", description = "Leave everything running and print curl commands to try it.")
  boolean keepRunning;

  @Option(names = "--env-file", paramLabel = "FILE",
      description = "With --keep-running: write PROXY_BASE, EPR_BASE, ISSUER and TOKEN (an MFA clinician token) to FILE, for scripts.")
  @Nullable Path envFile;

  @Option(names = "--patients", paramLabel = "N", defaultValue = "10000", description = "Synthetic patients in the EPR (default ${DEFAULT-VALUE}).")
  int patients;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of the synthetic data (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--verbose", description = "Also print fhirwall's own log (startup, alerts) while the demo runs.")
  boolean verbose;

  @Option(names = "--demo-jar", paramLabel = "FILE", defaultValue = "${env:FHIRWALL_DEMO_JAR}",
      description = "The demo's jar (the demo is not part of fhirwall.jar). Default: $FHIRWALL_DEMO_JAR, else "
          + DemoJar.FILE_NAME + " next to fhirwall.jar, else demo/target/" + DemoJar.FILE_NAME + " of the checkout it was built in.")
  @Nullable Path demoJar;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!verbose) {
      // The table is the demo's output; fhirwall's log (alerts included) stays in the audit file.
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(ch.qos.logback.classic.Level.ERROR);
    }
    if (patients < 100) {
      err.println("--patients: " + patients + " (expected: at least 100)");
      return 2;
    }
    // An empty FHIRWALL_DEMO_JAR means "not set", not the current directory.
    Path explicit = demoJar == null || demoJar.toString().isEmpty() ? null : demoJar;
    DemoJar.Lookup lookup = DemoJar.find(explicit, DemoCommand.class.getClassLoader(), DemoJar.productCode());
    if (lookup instanceof DemoJar.Missing missing) {
      err.println(missing.message());
      err.flush();
      return 1;
    }
    try (DemoJar.Found demo = (DemoJar.Found) lookup) {
      return demo.run(new Demo.Options(report, keepRunning, envFile, patients, seed), out, err);
    }
  }
}
