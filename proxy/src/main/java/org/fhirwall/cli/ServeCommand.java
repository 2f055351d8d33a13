package org.fhirwall.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.ConfigProblem;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.server.Fhirwall;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fhirwall serve}: runs the proxy until stopped (SIGTERM/SIGINT shut it down in order and
 * write out the audit log). Settings come from {@code --config FILE}; each key can be overridden by
 * its {@code FHIRWALL_...} environment variable, and the common ones by a flag (flag > environment >
 * file > default, see {@link DeploymentLoader}), so a first try needs no file at all.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the proxy.")
final class ServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

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
  @Nullable Path policies;

  @Option(names = "--public-base-url", paramLabel = "URL", description = "The base URL clients use (default http://LISTEN/fhir).")
  String publicBaseUrl;

  @Option(names = "--redis", paramLabel = "URL",
      description = "Share limits, locks and paging links with other replicas through this Redis (sets quota.store: redis).")
  String redis;

  @Option(names = "--admin-listen", paramLabel = "HOST:PORT",
      description = "Admin address (default 127.0.0.1:9091; port 0 picks a free port).")
  String adminListen;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "0", description = "Event loop threads (default: one per core).")
  int workers;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    DeploymentConfig deployment;
    try {
      deployment = new DeploymentLoader(System::getenv).load(config, flags());
    } catch (ConfigException e) {
      for (ConfigProblem p : e.problems()) {
        err.println(p);
      }
      err.flush();
      return 1;
    }
    deployment.warnings().forEach(w -> LOG.warn("{}", w));
    Fhirwall fhirwall;
    try {
      fhirwall = Fhirwall.start(deployment, new Fhirwall.Options(java.time.Clock.systemUTC(), null, workers, 2000));
    } catch (ConfigException e) {
      for (ConfigProblem p : e.problems()) {
        err.println(p);
      }
      err.flush();
      return 1;
    } catch (IllegalStateException e) {
      // a store that cannot be reached or read (Redis down past quota.redis.start-wait, an unreadable state file)
      err.println("fhirwall: cannot start: " + e.getMessage());
      err.flush();
      return 1;
    }
    Fhirwall running = fhirwall;
    // SIGTERM: stop accepting, finish the requests under way, write out the audit trail, exit 0.
    // SIGHUP: reload policies and certificates. Any other way out still closes in order (the hook).
    Signals.on("TERM", () -> new Thread(running::close, "fhirwall-sigterm").start());
    Signals.on("HUP", () -> new Thread(running::reload, "fhirwall-sighup").start());
    Runtime.getRuntime().addShutdownHook(new Thread(running::close, "fhirwall-shutdown"));
    spec.commandLine().getOut().println("fhirwall ready on " + deployment.publicBaseUrl() + " (listening on "
        + fhirwall.publicAddress() + (fhirwall.adminAddress() == null ? "" : ", admin on " + fhirwall.adminAddress()) + ")");
    spec.commandLine().getOut().flush();
    fhirwall.awaitClose();
    return 0;
  }

  /** The flags given, by the names the deployment schema's {@code x-flag}s use. */
  DeploymentLoader.Overrides flags() {
    Map<String, @Nullable String> given = new LinkedHashMap<>();
    given.put("--listen", listen);
    given.put("--upstream", upstream);
    given.put("--issuer", issuer);
    given.put("--audience", audience);
    given.put("--policies", policies == null ? null : policies.toString());
    given.put("--public-base-url", publicBaseUrl);
    given.put("--redis", redis);
    given.put("--admin-listen", adminListen);
    return DeploymentLoader.Overrides.of(given);
  }
}
