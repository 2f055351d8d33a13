package org.fhirwall.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.fhirwall.demo.DemoEnvironment;
import org.fhirwall.demo.DemoReport;
import org.fhirwall.demo.IncidentScript;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.ConfigProblem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fhirwall demo}: starts an EPR with synthetic patients, a demo token issuer and fhirwall,
 * all on loopback, and replays the November 2024 incident through fhirwall.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Replay the November 2024 incident against a synthetic EPR behind fhirwall (loopback only).")
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary as JSON to FILE.")
  Path report;

  @Option(names = "--keep-running", description = "Leave everything running and print curl commands to try it.")
  boolean keepRunning;

  @Option(names = "--env-file", paramLabel = "FILE",
      description = "With --keep-running: write PROXY_BASE, EPR_BASE, ISSUER and TOKEN (an MFA clinician token) to FILE, for scripts.")
  Path envFile;

  @Option(names = "--patients", paramLabel = "N", defaultValue = "10000", description = "Synthetic patients in the EPR (default ${DEFAULT-VALUE}).")
  int patients;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of the synthetic data (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--verbose", description = "Also print fhirwall's own log (startup, alerts) while the demo runs.")
  boolean verbose;

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
    out.printf("fhirwall demo: starting an EPR with %,d synthetic patients, a demo token issuer and fhirwall (loopback only)...%n",
        patients);
    out.flush();
    DemoEnvironment env;
    try {
      env = DemoEnvironment.start(new DemoEnvironment.Settings(patients, seed, null));
    } catch (ConfigException e) {
      for (ConfigProblem p : e.problems()) {
        err.println(p);
      }
      return 1;
    }
    try (env) {
      out.println("  EPR      " + env.eprBase());
      out.println("  fhirwall " + env.proxyBase());
      out.println();
      IncidentScript script = new IncidentScript(env);
      DemoReport result = script.play();
      out.print(result.toTable());
      out.println("  Audit log: " + env.auditFile());
      if (report != null) {
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(report, result.toJson(), UTF_8);
        out.println("  Report written to " + report);
      }
      out.flush();
      if (keepRunning) {
        printTryIt(out, env, script);
        if (envFile != null) {
          Files.writeString(envFile, "PROXY_BASE=" + env.proxyBase() + "\nEPR_BASE=" + env.eprBase() + "\nTOKEN="
              + script.clinicianToken("bench.clinician", true, Duration.ofMinutes(1)) + "\nAUDIT_FILE=" + env.auditFile()
              + "\nISSUER=" + env.issuer().issuer() + "\n", UTF_8);
        }
        new CountDownLatch(1).await();
      }
      return result.passwordOnly().patientsDisclosed() == 0
          && result.stolen().patientsDisclosed() <= result.stolen().roleLimit() ? 0 : 1;
    }
  }

  private static void printTryIt(PrintWriter out, DemoEnvironment env, IncidentScript script) {
    String mfa = script.clinicianToken("dr.lefebvre", true, Duration.ofMinutes(5));
    String pwd = script.clinicianToken("dr.lefebvre", false, Duration.ZERO);
    out.println();
    out.println("Everything keeps running (Ctrl-C to stop). Tokens are valid for 30 minutes. Try:");
    out.println();
    out.println("  # MFA-backed clinician: allowed, within the role's limits");
    out.println("  curl -s -H 'Authorization: Bearer " + mfa + "' '" + env.proxyBase() + "/Patient?_count=5'");
    out.println();
    out.println("  # password only: 401 with a step-up challenge");
    out.println("  curl -si -H 'Authorization: Bearer " + pwd + "' '" + env.proxyBase() + "/Patient?_count=5'");
    out.println();
    out.println("  # the audit trail");
    out.println("  tail -f " + env.auditFile());
    out.flush();
  }
}
