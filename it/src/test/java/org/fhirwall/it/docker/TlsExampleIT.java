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
import org.fhirwall.demo.DemoFhirServer;
import org.fhirwall.demo.DemoStore;
import org.fhirwall.it.keycloak.KeycloakExtension;
import org.fhirwall.it.keycloak.KeycloakServer;
import org.fhirwall.server.Fhirwall;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS example: docker/tls/make-certs.sh makes a local CA and a server certificate (PKCS#8 key),
 * and fhirwall, configured as compose.tls.yaml configures a replica (docker/fhirwall.yaml, the
 * replica's environment and the TLS overlay's), serves HTTPS with them: a client that trusts the
 * CA gets an answer for {@code localhost}, one that does not is refused at the handshake. The
 * walkthrough's step 7: the walkthrough's physician (docker/walkthrough/login.sh, a DPoP-bound token)
 * reads a chart over HTTPS with proofs for the https URL (docker/walkthrough/dpop.py), while the same
 * token as a bearer token or without a proof is refused.
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

    // the EPR, seeded by the script compose's epr-seed runs
    try (DemoFhirServer epr = DemoFhirServer.start(DemoStore.empty(Clock.systemUTC()), 0)) {
      Command.Result seed = Command.of(Kit.REPO, List.of("sh", Kit.DOCKER.resolve("epr/seed.sh").toString(), epr.baseUrl())).run(300);
      assertThat(seed.exit()).as(seed.describe()).isZero();
      env.put("EPR_FHIR_BASE_URL", epr.baseUrl());
      DeploymentConfig config = new DeploymentLoader(env::get).load(Kit.DOCKER.resolve("fhirwall.yaml"), DeploymentLoader.Overrides.NONE);
      assertThat(config.tls()).isNotNull();

      try (Fhirwall fhirwall = Fhirwall.start(config, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0))) {
        HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(certs.resolve("ca.crt"))).connectTimeout(Duration.ofSeconds(5)).build();
        String chart = "https://localhost:" + port + "/fhir/Patient/walk-01";
        HttpResponse<String> anonymous = get(trusting, chart, null, null);
        assertThat(anonymous.statusCode()).as("fhirwall answers over TLS (a request without a token: 401)").isEqualTo(401);
        assertThat(anonymous.headers().allValues("WWW-Authenticate")).isNotEmpty();
        HttpResponse<String> metadata = get(trusting, "https://localhost:" + port + "/fhir/metadata", null, null);
        assertThat(metadata.statusCode()).as("the SMART discovery /metadata needs no token: %s", metadata.body()).isEqualTo(200);

        Path key = Files.createDirectories(dir.resolve("device")).resolve("dpop-key.pem");
        String token = Walkthrough.token(keycloak, key);
        assertThat(Kit.claims(token).path("cnf").path("jkt").asText()).isEqualTo(Walkthrough.thumbprint(key));
        HttpResponse<String> read = get(trusting, chart, "DPoP " + token, Walkthrough.proof(key, "GET", chart, token));
        assertThat(read.statusCode()).as("the DPoP-bound token with a proof for the https URL: %s", read.body()).isEqualTo(200);
        assertThat(read.body()).contains("\"id\":\"walk-01\"");
        HttpResponse<String> plainHttpUrl = get(trusting, chart, "DPoP " + token,
            Walkthrough.proof(key, "GET", "http://localhost:" + port + "/fhir/Patient/walk-01", token));
        for (HttpResponse<String> r : List.of(get(trusting, chart, "Bearer " + token, null), get(trusting, chart, "DPoP " + token, null),
            plainHttpUrl)) {
          assertThat(r.statusCode()).as("the bound token without a good proof: %s", r.body()).isEqualTo(401);
          assertThat(r.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"", "\"id\":\"walk-01\"");
          assertThat(r.headers().allValues("WWW-Authenticate")).as("the challenge names DPoP").anyMatch(v -> v.startsWith("DPoP "));
        }

        HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> get(untrusting, chart, null, null)).isInstanceOf(SSLHandshakeException.class);
      }
    }
  }

  private static HttpResponse<String> get(HttpClient client, String url, @Nullable String authorization, @Nullable String proof)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).header("Accept", "application/fhir+json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (proof != null) {
      b.header("DPoP", proof);
    }
    return client.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
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
