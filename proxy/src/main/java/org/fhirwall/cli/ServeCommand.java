package org.fhirwall.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fhirwall.policy.ConfigException;
import org.fhirwall.policy.ConfigProblem;
import org.fhirwall.policy.DeploymentConfig;
import org.fhirwall.policy.DeploymentLoader;
import org.fhirwall.server.Fhirwall;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fhirwall serve}: runs the proxy until stopped (SIGTERM/SIGINT shut it down in order and
 * write out the audit log). Settings come from {@code --config FILE}; the common ones can be given
 * or overridden as flags, so a first try needs no file at all.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the proxy.")
final class ServeCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", description = "The deployment file (YAML).")
  Path config;

  @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on (default 127.0.0.1:8080).")
  String listen;

  @Option(names = "--upstream", paramLabel = "URL", description = "The EPR's FHIR base URL.")
  String upstream;

  @Option(names = "--issuer", paramLabel = "URL", description = "The identity provider's issuer URL.")
  String issuer;

  @Option(names = "--audience", paramLabel = "NAME", description = "The audience fhirwall's tokens must carry.")
  String audience;

  @Option(names = "--policies", paramLabel = "DIR", description = "The directory of role policy files.")
  Path policies;

  @Option(names = "--public-base-url", paramLabel = "URL", description = "The base URL clients use (default http://LISTEN/fhir).")
  String publicBaseUrl;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "0", description = "Event loop threads (default: one per core).")
  int workers;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    DeploymentConfig deployment;
    try {
      deployment = new DeploymentLoader(System::getenv).load(config,
          new DeploymentLoader.Overrides(listen, upstream, issuer, audience, policies, publicBaseUrl));
    } catch (ConfigException e) {
      for (ConfigProblem p : e.problems()) {
        err.println(p);
      }
      err.flush();
      return 1;
    }
    Fhirwall fhirwall;
    try {
      fhirwall = Fhirwall.start(deployment, new Fhirwall.Options(java.time.Clock.systemUTC(), null, workers, 2000));
    } catch (ConfigException e) {
      for (ConfigProblem p : e.problems()) {
        err.println(p);
      }
      err.flush();
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(fhirwall::close, "fhirwall-shutdown"));
    spec.commandLine().getOut().println("fhirwall ready on " + deployment.publicBaseUrl() + " (listening on "
        + fhirwall.publicAddress() + ")");
    spec.commandLine().getOut().flush();
    fhirwall.awaitClose();
    return 0;
  }
}
