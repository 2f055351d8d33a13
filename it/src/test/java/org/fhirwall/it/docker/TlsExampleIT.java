package org.fhirwall.it.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.it.keycloak.KeycloakExtension;
import org.fhirwall.it.keycloak.KeycloakServer;
import org.fhirwall.server.Fhirwall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS example: docker/tls/make-certs.sh makes a local CA and a server certificate (PKCS#8 key),
 * and fhirwall, configured as compose.tls.yaml configures a replica (docker/fhirwall.yaml, the
 * replica's environment and the TLS overlay's), serves HTTPS with them: a client that trusts the
 * CA gets an answer for {@code localhost}, one that does not is refused at the handshake.
 */
@ExtendWith(KeycloakExtension.class)
class TlsExampleIT {
  @TempDir Path dir;

  @Test
  @SuppressWarnings("unchecked")
  void fhirwallServesHttpsWithTheCertificateTheScriptMakes(KeycloakServer keycloak) throws Exception {
    Path certs = dir.resolve("tls");
    Command.Result made = Command.of(Kit.REPO, List.of("bash", Kit.DOCKER.resolve("tls/make-certs.sh").toString(), certs.toString()))
        .run(60);
    assertThat(made.exit()).as(made.describe()).isZero();
    assertThat(Files.readString(certs.resolve("fhirwall.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
    Command.Result verify = Command.of(certs, List.of("openssl", "verify", "-CAfile", "ca.crt", "fhirwall.crt")).run(30);
    assertThat(verify.exit()).as(verify.describe()).isZero();

    int port = Kit.freePort();
    Map<String, String> env = new HashMap<>(Kit.replicaEnvironment());
    ((Map<String, Object>) Kit.service(Kit.compose("compose.tls.yaml"), "fhirwall-1").get("environment"))
        .forEach((k, v) -> env.put(k, String.valueOf(v)));
    assertThat(env).containsEntry("FHIRWALL_TLS_CERTIFICATE", "/run/secrets/tls-certificate");
    env.put("FHIRWALL_TLS_CERTIFICATE", certs.resolve("fhirwall.crt").toString());
    env.put("FHIRWALL_TLS_PRIVATE_KEY", certs.resolve("fhirwall.key").toString());
    env.put("FHIRWALL_PUBLIC_BASE_URL", "https://localhost:" + port + "/fhir");
    env.put("FHIRWALL_LISTEN", "127.0.0.1:" + port);
    env.put("FHIRWALL_ADMIN_ENABLED", "false");
    env.put("FHIRWALL_POLICIES", Kit.POLICIES.resolve("roles").toString());
    env.put("FHIRWALL_AUDIT_FILE", dir.resolve("audit.jsonl").toString());
    env.put("FHIRWALL_PAGING_SECRET_FILE", Files.writeString(dir.resolve("paging-key"), "k".repeat(48)).toString());
    env.put("OIDC_ISSUER", keycloak.issuer());
    env.put("OIDC_JWKS_URI", keycloak.jwksUri());
    env.put("EPR_FHIR_BASE_URL", "http://127.0.0.1:" + Kit.freePort() + "/fhir");
    DeploymentConfig config = new DeploymentLoader(env::get).load(Kit.DOCKER.resolve("fhirwall.yaml"), DeploymentLoader.Overrides.NONE);
    assertThat(config.tls()).isNotNull();

    try (Fhirwall fhirwall = Fhirwall.start(config, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0))) {
      // a data request: /metadata is answered without a token (SMART discovery), so it would need the IdP
      URI metadata = URI.create("https://localhost:" + port + "/fhir/Patient");
      HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(certs.resolve("ca.crt"))).connectTimeout(Duration.ofSeconds(5)).build();
      HttpResponse<String> r = trusting.send(HttpRequest.newBuilder(metadata).timeout(Duration.ofSeconds(20)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("fhirwall answers over TLS (a request without a token: 401)").isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));

      HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(metadata).timeout(Duration.ofSeconds(20)).GET().build(),
          HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
    }
  }

  private static SSLContext trusting(Path caCertificate) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caCertificate)) {
      trust.setCertificateEntry("fhirwall-local-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }
}
