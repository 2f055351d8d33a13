package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        .replace("/var/log/fhirwall", dir.toString())
        .replace("/run/secrets/admin-tokens", Files.writeString(dir.resolve("admin-tokens"), "ops " + "x".repeat(40)).toString());
    Path file = Files.writeString(dir.resolve("fhirwall.yaml"), yaml);
    DeploymentConfig c = new DeploymentLoader(env::get).load(file, DeploymentLoader.Overrides.NONE);
    assertThat(c.upstream().url().toString()).isEqualTo("http://epr:8080/fhir");
    assertThat(c.identity().issuer()).isEqualTo("http://localhost:8180/realms/fhirwall");
    assertThat(c.identity().jwksUri()).hasToString("http://keycloak:8180/realms/fhirwall/protocol/openid-connect/certs");
    assertThat(c.publicBaseUrl()).hasToString("http://localhost:8080/fhir");
    assertThat(c.admin()).isNotNull();
    assertThat(c.admin().tokenFile()).as("the admin port listens beyond loopback: operators need tokens").isNotNull();
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

  /**
   * Maven reads every module the root pom lists, even to build one: the build stage must copy each
   * module's pom, or the image does not build. It builds the product alone; the demo stays out.
   */
  @Test
  void theImageBuildsTheProductAloneWithEveryModulePomPresent() throws Exception {
    String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
    Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(DOCKER.resolve("../pom.xml")));
    List<String> listed = new ArrayList<>();
    while (modules.find()) {
      listed.add(modules.group(1));
    }
    assertThat(listed).contains("proxy", "demo");
    for (String module : listed) {
      assertThat(dockerfile).contains("COPY " + module + "/pom.xml " + module + "/");
    }
    assertThat(dockerfile).contains("-pl proxy package").contains("COPY --from=build /src/proxy/target/fhirwall.jar ")
        .doesNotContain("COPY demo ").doesNotContain("fhirwall-demo.jar");
  }
}
