package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store over TLS ({@code rediss://}) to a Redis of the test's own with a certificate from a
 * private CA ({@code quota.redis.ca-file}); the certificate is verified. Needs {@code openssl} and
 * a {@code redis-server} built with TLS; skipped where either is missing.
 */
class RedisTlsTest {
  @TempDir
  Path dir;
  RedisProcess redis;

  @AfterEach
  void stop() throws Exception {
    if (redis != null) {
      redis.close();
    }
  }

  private void openssl(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "openssl";
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("openssl.log").toFile()).start();
    assertThat(p.waitFor()).as("openssl %s: %s", args[0], Files.exists(dir.resolve("openssl.log"))
        ? Files.readString(dir.resolve("openssl.log")) : "").isZero();
  }

  @Test
  void theStoreTalksTlsToRedisAndVerifiesItsCertificate() throws Exception {
    boolean tools;
    try {
      tools = new ProcessBuilder("openssl", "version").start().waitFor() == 0
          && new String(Files.readAllBytes(RedisProcess.binary())).contains("tls-cert-file");
    } catch (java.io.IOException e) {
      tools = false;
    }
    assumeTrue(tools, "openssl and a redis-server built with TLS");
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
        "-subj", "/CN=fhirwall-test-ca");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    Files.writeString(dir.resolve("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
        "-days", "1", "-extfile", "ext");
    int tlsPort = RedisProcess.freePort();
    redis = RedisProcess.start("--tls-port", Integer.toString(tlsPort), "--tls-cert-file", dir.resolve("server.crt").toString(),
        "--tls-key-file", dir.resolve("server.key").toString(), "--tls-ca-cert-file", dir.resolve("ca.crt").toString(),
        "--tls-auth-clients", "no");
    String url = "rediss://127.0.0.1:" + tlsPort;
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 2);
    RedisQuotaStore.Settings trusted = new RedisQuotaStore.Settings(url, false, null, null, dir.resolve("ca.crt"),
        Duration.ofSeconds(2), Duration.ofMinutes(2), Duration.ofSeconds(10), "fw:");
    try (RedisQuotaStore store = RedisQuotaStore.connect(trusted, Duration.ofSeconds(5))) {
      assertThat(store.charge(new ChargeRequest("tls", List.of(w), Set.of("p1", "p2", "p3"), t0, true)).toCompletableFuture().join())
          .isInstanceOf(ChargeResult.Refused.class);
    }
    RedisQuotaStore.Settings untrusted = new RedisQuotaStore.Settings(url, false, null, null, null,
        Duration.ofSeconds(2), Duration.ofMinutes(2), Duration.ofSeconds(10), "fw:");
    assertThatThrownBy(() -> RedisQuotaStore.connect(untrusted, Duration.ofMillis(500)))
        .as("a certificate the JVM does not trust is refused").hasMessageContaining("not reachable");
  }
}
