package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What docker/ ships is what fhirwall accepts: the deployment file loads with the variables the
 * compose file sets, and the compose file sets every variable the deployment file needs.
 */
class DockerFilesTest {
  static final Path DOCKER = Path.of(System.getProperty("fhirwall.docker.dir", "../docker"));
  static final Path POLICIES = Path.of(System.getProperty("fhirwall.policies.dir", "../policies"));

  @SuppressWarnings("unchecked")
  private static Map<String, String> fhirwallEnvironment() throws Exception {
    Map<String, Object> compose = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(DOCKER.resolve("compose.yaml")));
    Map<String, Object> services = (Map<String, Object>) compose.get("services");
    Map<String, Object> fhirwall = (Map<String, Object>) services.get("fhirwall");
    return (Map<String, String>) fhirwall.get("environment");
  }

  @Test
  void theDeploymentFileLoadsWithTheComposeEnvironment(@TempDir Path dir) throws Exception {
    Map<String, String> env = fhirwallEnvironment();
    String yaml = Files.readString(DOCKER.resolve("fhirwall.yaml"))
        .replace("/etc/fhirwall/policies", POLICIES.resolve("roles").toAbsolutePath().toString())
        .replace("/var/log/fhirwall", dir.toString());
    Path file = Files.writeString(dir.resolve("fhirwall.yaml"), yaml);
    DeploymentConfig c = new DeploymentLoader(env::get).load(file, DeploymentLoader.Overrides.NONE);
    assertThat(c.upstream().url().toString()).isEqualTo("http://epr:8080/fhir");
    assertThat(c.identity().issuer()).isEqualTo("http://localhost:8180/realms/fhirwall");
    assertThat(c.identity().jwksUri()).hasToString("http://keycloak:8180/realms/fhirwall/protocol/openid-connect/certs");
    assertThat(c.publicBaseUrl()).hasToString("http://localhost:8080/fhir");
    assertThat(c.admin()).isNotNull();
    assertThat(c.identity().clients()).as("the shipped deployment names its clients").isNotEmpty();
    assertThat(c.warnings()).isEmpty();
    new RolePolicyLoader(FhirContext.forR4Cached().getResourceTypes()).loadDirectory(c.policies());
  }

  @Test
  void theImageShipsTheExamplePoliciesAndTheDeploymentFile() throws Exception {
    String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
    assertThat(dockerfile).contains("COPY policies/roles /etc/fhirwall/policies")
        .contains("COPY docker/fhirwall.yaml /etc/fhirwall/fhirwall.yaml")
        .contains("USER fhirwall");
    assertThat(Files.isDirectory(POLICIES.resolve("roles"))).isTrue();
  }
}
