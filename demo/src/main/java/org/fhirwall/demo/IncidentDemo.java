package org.fhirwall.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.fhirwall.cli.Demo;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.ConfigProblem;

/**
 * What {@code fhirwall demo} runs: a {@link DemoEnvironment}, the {@link IncidentScript} through
 * it, the table (and the JSON report), and with {@code --keep-running} the commands to try it.
 * Found by the verb through {@code META-INF/services/org.fhirwall.cli.Demo}.
 */
public final class IncidentDemo implements Demo {

  @Override
  public int run(Options options, PrintWriter out, PrintWriter err) throws Exception {
    out.printf("fhirwall demo: starting an EPR with %,d synthetic patients, a demo token issuer and fhirwall (loopback only)...%n",
        options.patients());
    out.flush();
    DemoEnvironment env;
    try {
      env = DemoEnvironment.start(new DemoEnvironment.Settings(options.patients(), options.seed(), null));
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
      Path report = options.report();
      if (report != null) {
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(report, result.toJson(), UTF_8);
        out.println("  Report written to " + report);
      }
      out.flush();
      if (options.keepRunning()) {
        printTryIt(out, env, script);
        Path envFile = options.envFile();
        if (envFile != null) {
          Files.writeString(envFile, "PROXY_BASE=" + env.proxyBase() + "\nEPR_BASE=" + env.eprBase() + "\nTOKEN="
              + script.clinicianToken("bench.clinician", true, Duration.ofMinutes(1)) + "\nAUDIT_FILE=" + env.auditFile()
              + "\nISSUER=" + env.issuer().issuer() + "\n", UTF_8);
        }
        // Ctrl-C or SIGTERM is the only way out: stop everything and delete the working directory then.
        Runtime.getRuntime().addShutdownHook(new Thread(env::close, "fhirwall-demo-stop"));
        new CountDownLatch(1).await();
      }
      DemoReport.StolenSession stolen = result.stolen();
      return result.passwordOnly().patientsDisclosed() == 0
          && stolen.patientsDisclosed() <= stolen.roleLimit()
          && (stolen.unexplainedLimit() == 0 || stolen.strangersDisclosed() <= stolen.unexplainedLimit())
          && result.stolenDpop().patientsDisclosed() == 0 ? 0 : 1;
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
