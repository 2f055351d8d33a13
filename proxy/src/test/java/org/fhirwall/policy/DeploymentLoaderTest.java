package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeploymentLoaderTest {
  @TempDir
  Path dir;

  private Path write(String yaml) throws Exception {
    Files.createDirectories(dir.resolve("roles"));
    Path f = dir.resolve("fhirwall.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private final DeploymentLoader loader = new DeploymentLoader(Map.of("EPR_KEY", "s3cret")::get);

  @Test
  void aFullDeploymentFileIsReadWithPathsRelativeToIt() throws Exception {
    Path f = write("""
        listen: 0.0.0.0:8443
        public-base-url: https://fhir.hospital.example/fhir
        upstream:
          url: http://epr.internal:8080/fhir
          connect-timeout: 1s
          response-timeout: 20s
          headers:
            X-Api-Key: ${EPR_KEY}
        identity:
          issuer: https://sso.hospital.example/realms/fhirwall
          audience: [fhirwall]
          clients: [fhirwall-web]
          clock-skew: 10s
        policies: roles
        limits:
          max-request-body: 1MiB
          request-timeout: 15s
        audit:
          file: logs/audit.jsonl
        admin:
          listen: 127.0.0.1:9191
        """);
    DeploymentConfig c = loader.load(f, DeploymentLoader.Overrides.NONE);
    assertThat(c.listen().toString()).isEqualTo("0.0.0.0:8443");
    assertThat(c.basePath()).isEqualTo("/fhir");
    assertThat(c.upstream().url().toString()).isEqualTo("http://epr.internal:8080/fhir");
    assertThat(c.upstream().responseTimeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.upstream().headers()).containsEntry("X-Api-Key", "s3cret");
    assertThat(c.identity().audiences()).containsExactly("fhirwall");
    assertThat(c.identity().clockSkew()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.policies()).isEqualTo(dir.resolve("roles").toAbsolutePath().normalize());
    assertThat(c.limits().maxRequestBody()).isEqualTo(1 << 20);
    assertThat(c.audit().file()).isEqualTo(dir.resolve("logs/audit.jsonl").toAbsolutePath().normalize());
    assertThat(c.admin().port()).isEqualTo(9191);
  }

  @Test
  void flagsOverrideTheFileAndAFirstTryNeedsNoFileAtAll() throws Exception {
    Files.createDirectories(dir.resolve("roles"));
    DeploymentConfig c = loader.load(null, new DeploymentLoader.Overrides("127.0.0.1:9000", "http://127.0.0.1:8081/fhir",
        "http://127.0.0.1:8180/realms/fhirwall", "fhirwall", dir.resolve("roles"), null));
    assertThat(c.listen().port()).isEqualTo(9000);
    assertThat(c.publicBaseUrl().toString()).isEqualTo("http://127.0.0.1:9000/fhir");
    assertThat(c.identity().issuer()).isEqualTo("http://127.0.0.1:8180/realms/fhirwall");
  }

  @Test
  void missingEssentialsAreNamed() throws Exception {
    Path f = write("listen: 127.0.0.1:8080\n");
    assertThatThrownBy(() -> loader.load(f, DeploymentLoader.Overrides.NONE)).isInstanceOfSatisfying(ConfigException.class, e ->
        assertThat(e.getMessage())
            .contains("upstream: missing url")
            .contains("identity: missing issuer")
            .contains("identity: missing audience")
            .contains("policies: missing"));
  }

  @Test
  void hmacAlgorithmsAndUnsetVariablesAreRefused() throws Exception {
    Path f = write("""
        upstream:
          url: http://epr/fhir
          headers:
            X-Api-Key: ${NOT_SET}
        identity:
          issuer: https://idp/realms/x
          audience: fhirwall
          algorithms: [RS256, HS256, none]
        policies: roles
        """);
    assertThatThrownBy(() -> loader.load(f, DeploymentLoader.Overrides.NONE)).isInstanceOfSatisfying(ConfigException.class, e -> {
      assertThat(e.getMessage()).contains("fhirwall.yaml:8: identity.algorithms: HS256 (expected: asymmetric algorithms only");
      assertThat(e.getMessage()).contains("identity.algorithms: none");
      assertThat(e.getMessage()).contains("environment variable NOT_SET is not set");
    });
  }

  @Test
  void theAdminPortMayNotBeThePublicPort() throws Exception {
    Path f = write("""
        listen: 127.0.0.1:8080
        upstream: {url: http://epr/fhir}
        identity: {issuer: https://idp/realms/x, audience: fhirwall}
        policies: roles
        admin: {listen: 127.0.0.1:8080}
        """);
    assertThatThrownBy(() -> loader.load(f, DeploymentLoader.Overrides.NONE)).hasMessageContaining("admin.listen");
  }
}
