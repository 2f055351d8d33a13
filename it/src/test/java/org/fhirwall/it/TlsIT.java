package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.demo.DemoIssuer;
import org.fhirwall.server.Fhirwall;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS both ways with the hospital's own CA: towards an EPR that asks for a client certificate
 * (fhirwall trusts the hospital CA it is given, shows its own certificate, and refuses an EPR it
 * cannot trust), and on the public port, whose certificate is reloaded without a restart.
 */
class TlsIT {
  @TempDir Path dir;
  static DemoIssuer issuer;
  Fhirwall fhirwall;
  OnePatientEpr epr;

  @BeforeAll
  static void startIssuer() {
    issuer = DemoIssuer.start();
  }

  @AfterAll
  static void stopIssuer() {
    issuer.close();
  }

  @AfterEach
  void stop() {
    if (fhirwall != null) {
      fhirwall.close();
    }
    if (epr != null) {
      epr.close();
    }
  }

  /** An EPR over TLS with a certificate of the hospital CA, answering only clients with a certificate of it. */
  URI startEpr(TestCertificates hospital) throws Exception {
    TestCertificates.Identity server = hospital.issue("epr", true);
    SSLContext ctx = hospital.sslContext(server);
    HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    https.setHttpsConfigurator(new HttpsConfigurator(ctx) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters p = ctx.getDefaultSSLParameters();
        p.setNeedClientAuth(true);
        params.setSSLParameters(p);
      }
    });
    epr = OnePatientEpr.start(https, 2);
    return URI.create(epr.base());
  }

  Fhirwall start(String yaml) throws Exception {
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), yaml, UTF_8);
    DeploymentConfig c = new DeploymentLoader(n -> null).load(config, DeploymentLoader.Overrides.NONE);
    fhirwall = Fhirwall.start(c, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0));
    return fhirwall;
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  String token() {
    return issuer.mint(DemoIssuer.Claims.builder("sub-tls", "fhirwall", "fhirwall-web").username("tls")
        .roles(Set.of("physician")).amr(List.of("pwd", "otp")).authTime(Instant.now()).build());
  }

  String deployment(int port, URI upstream, String upstreamTls, String publicTls) throws Exception {
    return """
        listen: 127.0.0.1:%d
        upstream:
          url: %s
          response-timeout: 5s
        %s
        identity: {issuer: %s, audience: [fhirwall], clients: [fhirwall-web]}
        policies: %s
        audit: {file: %s}
        admin: {enabled: false}
        %s
        """.formatted(port, upstream, upstreamTls, issuer.issuer(), ItEnvironment.policies(), dir.resolve("audit.jsonl"),
        publicTls);
  }

  HttpResponse<String> read(HttpClient client, String base) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(base + "/Patient/p1")).header("Authorization", "Bearer " + token())
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void fhirwallTrustsTheHospitalCaAndShowsItsClientCertificateToTheEpr() throws Exception {
    TestCertificates hospital = TestCertificates.ca(Files.createDirectories(dir.resolve("hospital")), "Hospital CA");
    URI upstream = startEpr(hospital);
    TestCertificates.Identity client = hospital.issue("fhirwall", false);
    int port = freePort();
    start(deployment(port, upstream, """
          tls:
            ca: %s
            certificate: %s
            private-key: %s""".formatted(hospital.caPem, client.chain(), client.key()).indent(2), ""));
    HttpResponse<String> r = read(HttpClient.newHttpClient(), "http://127.0.0.1:" + port + "/fhir");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"id\":\"p1\"");
  }

  @Test
  void anEprFhirwallCannotTrustOrThatRefusesItsCertificateGets502() throws Exception {
    TestCertificates hospital = TestCertificates.ca(Files.createDirectories(dir.resolve("hospital")), "Hospital CA");
    URI upstream = startEpr(hospital);
    int port = freePort();
    // no hospital CA: the JVM's trust store does not know it
    start(deployment(port, upstream, "", ""));
    HttpResponse<String> untrusted = read(HttpClient.newHttpClient(), "http://127.0.0.1:" + port + "/fhir");
    assertThat(untrusted.statusCode()).isEqualTo(502);
    assertThat(untrusted.body()).contains("OperationOutcome").doesNotContain("p1");
    fhirwall.close();
    // the CA but no client certificate: the EPR refuses the handshake
    int port2 = freePort();
    start(deployment(port2, upstream, "  tls: {ca: %s}".formatted(hospital.caPem), ""));
    assertThat(read(HttpClient.newHttpClient(), "http://127.0.0.1:" + port2 + "/fhir").statusCode()).isEqualTo(502);
  }

  @Test
  void aCertificateBoundTokenWorksOnlyOverTheConnectionOfItsCertificate() throws Exception {
    TestCertificates hospital = TestCertificates.ca(Files.createDirectories(dir.resolve("mtls")), "Hospital CA");
    TestCertificates.Identity server = hospital.issue("fhirwall-public", true);
    TestCertificates.Identity workstationA = hospital.issue("workstation-a", false);
    TestCertificates.Identity workstationB = hospital.issue("workstation-b", false);
    URI upstream = startEpr(hospital);
    TestCertificates.Identity toEpr = hospital.issue("fhirwall", false);
    int port = freePort();
    start(deployment(port, upstream, """
          tls:
            ca: %s
            certificate: %s
            private-key: %s""".formatted(hospital.caPem, toEpr.chain(), toEpr.key()).indent(2),
        "tls: {certificate: %s, private-key: %s, client-ca: %s}".formatted(server.chain(), server.key(), hospital.caPem)));
    // RFC 8705: the IdP bound the token to workstation A's certificate (cnf.x5t#S256)
    String token = issuer.mintCertificateBound(DemoIssuer.Claims.builder("sub-mtls", "fhirwall", "fhirwall-web")
        .username("mtls").roles(Set.of("physician")).amr(List.of("pwd", "otp")).authTime(Instant.now()).build(),
        thumbprint(workstationA.chain()));
    String base = "https://localhost:" + port + "/fhir";
    HttpResponse<String> own = read(HttpClient.newBuilder().sslContext(hospital.sslContext(workstationA)).build(), base, token);
    assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
    HttpResponse<String> other = read(HttpClient.newBuilder().sslContext(hospital.sslContext(workstationB)).build(), base, token);
    assertThat(other.statusCode()).isEqualTo(401);
    assertThat(other.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("invalid_token")
        .contains("another client certificate");
    assertThat(other.body()).doesNotContain("\"id\":\"p1\"");
  }

  /** x5t#S256 of the first certificate of a PEM chain. */
  static String thumbprint(Path chain) throws Exception {
    try (java.io.InputStream in = Files.newInputStream(chain)) {
      byte[] der = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded();
      return java.util.Base64.getUrlEncoder().withoutPadding()
          .encodeToString(java.security.MessageDigest.getInstance("SHA-256").digest(der));
    }
  }

  HttpResponse<String> read(HttpClient client, String base, String token) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(base + "/Patient/p1")).header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void thePublicCertificateIsReloadedWithoutARestart() throws Exception {
    TestCertificates first = TestCertificates.ca(Files.createDirectories(dir.resolve("first")), "First CA");
    TestCertificates.Identity one = first.issue("fhirwall-one", true);
    Path cert = Files.copy(one.chain(), dir.resolve("public-chain.pem"));
    Path key = Files.copy(one.key(), dir.resolve("public-key.pem"));
    int port = freePort();
    start(deployment(port, URI.create("http://127.0.0.1:" + freePort() + "/fhir"), "",
        "tls: {certificate: %s, private-key: %s}".formatted(cert, key)));
    assertThat(presented(port)).isEqualTo("CN=fhirwall-one");

    TestCertificates second = TestCertificates.ca(Files.createDirectories(dir.resolve("second")), "Second CA");
    TestCertificates.Identity two = second.issue("fhirwall-two", true);
    Files.copy(two.chain(), cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(two.key(), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    fhirwall.reload(); // what SIGHUP does; the file watcher does the same within 30 s
    assertThat(presented(port)).as("new connections get the new certificate").isEqualTo("CN=fhirwall-two");
  }

  @Test
  void overTheConnectionCapATlsClientIsAnswered503AfterItsHandshake() throws Exception {
    TestCertificates ca = TestCertificates.ca(Files.createDirectories(dir.resolve("cap")), "Cap CA");
    TestCertificates.Identity one = ca.issue("fhirwall-cap", true);
    int port = freePort();
    start(deployment(port, URI.create("http://127.0.0.1:" + freePort() + "/fhir"), "",
        "tls: {certificate: %s, private-key: %s}\nlimits: {max-connections: 1}".formatted(one.chain(), one.key())));
    try (SSLSocket held = (SSLSocket) trustAll().getSocketFactory().createSocket("127.0.0.1", port)) {
      held.setSoTimeout(10_000);
      held.startHandshake(); // accepted, so counted: the cap is reached
      try (SSLSocket over = (SSLSocket) trustAll().getSocketFactory().createSocket("127.0.0.1", port)) {
        over.setSoTimeout(10_000);
        over.startHandshake();
        String answer = new String(over.getInputStream().readAllBytes(), UTF_8); // it sent no request
        assertThat(answer).startsWith("HTTP/1.1 503 ").contains("\"resourceType\":\"OperationOutcome\"")
            .contains("limits.max-connections").containsIgnoringCase("retry-after: 1");
      }
    }
  }

  /** The subject of the certificate the public port presents to a new connection. */
  static String presented(int port) throws Exception {
    try (SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.startHandshake();
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }
  }

  /** A client context that trusts any server certificate (the tests look at what is presented). */
  static SSLContext trustAll() throws Exception {
    SSLContext trustAll = SSLContext.getInstance("TLS");
    trustAll.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    return trustAll;
  }
}
