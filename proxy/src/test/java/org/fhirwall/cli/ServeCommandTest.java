package org.fhirwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.config.DeploymentKit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code fhirwall serve}'s flags are a contract: each sets its deployment key, over the file and the environment. */
class ServeCommandTest {
  static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies"));
  static final Path DOCKER = Path.of(System.getProperty("fhirwall.docker.dir", "../docker"));

  /** A replica's environment in docker/compose.yaml, as this build can load it. */
  static Map<String, String> composeEnvironment() {
    return DeploymentKit.loadable(DeploymentKit.replicaEnvironment());
  }

  @Test
  void theReadmesFlagsOverrideTheShippedDeploymentFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs("--config", DOCKER.resolve("fhirwall.yaml").toString(),
        "--listen", "127.0.0.1:18080",
        "--upstream", "http://epr.internal:8080/fhir",
        "--issuer", "https://sso.hospital.example/realms/fhirwall",
        "--audience", "fhirwall",
        "--policies", POLICIES.resolve("roles").toString(),
        "--public-base-url", "https://fhir.hospital.example/fhir",
        "--workers", "2");
    Map<String, String> env = new java.util.HashMap<>(composeEnvironment());
    // the compose secret, elsewhere on this machine: the environment overrides the file's key
    env.put("FHIRWALL_ADMIN_TOKEN_FILE", Files.writeString(dir.resolve("tokens"), "ops " + "x".repeat(40)).toString());
    env.put("FHIRWALL_PAGING_SECRET_FILE", Files.writeString(dir.resolve("paging-key"), "k".repeat(64)).toString());
    DeploymentConfig c = new DeploymentLoader(env::get).load(serve.config, serve.flags());
    assertThat(c.listen()).hasToString("127.0.0.1:18080");
    assertThat(c.upstream().url()).hasToString("http://epr.internal:8080/fhir");
    assertThat(c.identity().issuer()).isEqualTo("https://sso.hospital.example/realms/fhirwall");
    assertThat(c.identity().audiences()).containsExactly("fhirwall");
    assertThat(c.policies()).isEqualTo(POLICIES.resolve("roles").toAbsolutePath().normalize());
    assertThat(c.publicBaseUrl()).hasToString("https://fhir.hospital.example/fhir");
    assertThat(c.identity().clients()).as("from the file").containsExactlyInAnyOrder("fhirwall-web", "research-export");
    assertThat(serve.workers).isEqualTo(2);
    assertThat(c.admin().tokenFile()).isEqualTo(dir.resolve("tokens").toAbsolutePath().normalize());
  }

  @Test
  void everyServeFlagButConfigAndWorkersSetsADeploymentKey() {
    List<String> flags = new ArrayList<>();
    for (OptionSpec o : new CommandLine(new ServeCommand()).getCommandSpec().options()) {
      String name = o.longestName();
      if (!o.usageHelp() && !o.versionHelp() && !name.equals("--config") && !name.equals("--workers")) {
        flags.add(name);
      }
    }
    // Overrides refuses a flag the deployment schema does not name; this one names them all.
    DeploymentLoader.Overrides all = DeploymentLoader.Overrides.of(flags.stream().collect(
        java.util.stream.Collectors.toMap(f -> f, f -> "x")));
    assertThat(all.flags().keySet()).containsExactlyInAnyOrder("--listen", "--upstream", "--issuer", "--audience", "--policies",
        "--public-base-url", "--redis", "--admin-listen");
  }
}
