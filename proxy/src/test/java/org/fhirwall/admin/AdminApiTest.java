package org.fhirwall.admin;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.quota.LocalQuotaStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator API is not a way around a lock: health and readiness are open, the lock API needs
 * an operator's token, every request must name this host (DNS rebinding), and each unlock is
 * audited with the operator's name.
 */
class AdminApiTest {
  static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");
  static final String ALICE = "a".repeat(40);
  static final String BOB = "b".repeat(40);

  @TempDir Path dir;
  final List<AuditRecord> audit = new ArrayList<>();
  final LocalQuotaStore store = new LocalQuotaStore(100, Runnable::run);
  final Metrics metrics = new Metrics();

  @AfterEach
  void close() {
    store.close();
    metrics.close();
  }

  AdminApi api(AdminAccess access) {
    AuditSink sink = new AuditSink() {
      @Override
      public void write(AuditRecord record) {
        audit.add(record);
      }

      @Override
      public long dropped() {
        return 0;
      }

      @Override
      public void close() {
      }
    };
    Readiness readiness = new Readiness().check("listening", () -> null).warn("identity.clients is empty");
    return new AdminApi(store, sink, readiness, metrics, Clock.fixed(NOW, ZoneOffset.UTC), access);
  }

  AdminAccess withTokens() throws IOException {
    Path file = Files.writeString(dir.resolve("tokens"), "# operators\nalice " + ALICE + "\nbob " + BOB + "\n", UTF_8);
    return AdminAccess.of(file, "127.0.0.1", List.of("fhirwall-admin.internal"));
  }

  AdminApi.AdminResponse call(AdminApi api, String method, String path, String host, String authorization) {
    return api.handle(method, path, host, authorization, "10.0.0.9").toCompletableFuture().join();
  }

  @Test
  void healthAndReadinessNeedNoCredential() throws IOException {
    AdminApi api = api(withTokens());
    assertThat(call(api, "GET", "/health", "127.0.0.1:9091", null).status()).isEqualTo(200);
    AdminApi.AdminResponse ready = call(api, "GET", "/ready", "localhost:9091", null);
    assertThat(ready.status()).isEqualTo(200);
    assertThat(new String(ready.body(), UTF_8)).startsWith("ready").contains("warn  identity.clients is empty");
    AdminApi.AdminResponse scrape = call(api, "GET", "/metrics", "127.0.0.1:9091", null);
    assertThat(scrape.status()).isEqualTo(200);
    assertThat(scrape.contentType()).startsWith("text/plain; version=0.0.4");
    assertThat(new String(scrape.body(), UTF_8)).contains("jvm_memory_used_bytes");
  }

  @Test
  void theLockApiNeedsAnOperatorToken() throws IOException {
    AdminApi api = api(withTokens());
    store.lock("idp|mallory", "limit", Duration.ofHours(1), NOW);
    assertThat(call(api, "GET", "/locks", "127.0.0.1:9091", null).status()).isEqualTo(401);
    assertThat(call(api, "DELETE", "/locks/idp%7Cmallory", "127.0.0.1:9091", "Bearer " + "c".repeat(40)).status())
        .isEqualTo(401);
    assertThat(call(api, "DELETE", "/locks/idp%7Cmallory", "127.0.0.1:9091", "Basic " + ALICE).status()).isEqualTo(401);
    assertThat(store.lockOf("idp|mallory", NOW).toCompletableFuture().join()).as("still locked").isPresent();
    assertThat(audit).isEmpty();

    assertThat(call(api, "GET", "/locks", "127.0.0.1:9091", "Bearer " + ALICE).status()).isEqualTo(200);
    assertThat(call(api, "DELETE", "/locks/idp%7Cmallory", "127.0.0.1:9091", "Bearer " + BOB).status()).isEqualTo(200);
    assertThat(store.lockOf("idp|mallory", NOW).toCompletableFuture().join()).isEmpty();
    assertThat(audit).singleElement().satisfies(r -> {
      assertThat(r.kind()).isEqualTo(AuditRecord.Kind.UNLOCK);
      assertThat(r.reason()).isEqualTo("lock lifted by operator bob for idp|mallory");
      assertThat(r.remoteAddress()).isEqualTo("10.0.0.9");
    });
  }

  @Test
  void withoutTokensTheLockApiIsClosed() throws IOException {
    AdminApi api = api(AdminAccess.of(null, "127.0.0.1", List.of()));
    store.lock("idp|mallory", "limit", Duration.ofHours(1), NOW);
    AdminApi.AdminResponse r = call(api, "DELETE", "/locks/idp%7Cmallory", "127.0.0.1:9091", "Bearer " + ALICE);
    assertThat(r.status()).isEqualTo(403);
    assertThat(new String(r.body(), UTF_8)).contains("admin.token-file");
    assertThat(store.lockOf("idp|mallory", NOW).toCompletableFuture().join()).isPresent();
  }

  @Test
  void aRequestNamingAnotherHostIsMisdirectedWhateverItCarries() throws IOException {
    AdminApi api = api(withTokens());
    for (String host : new String[] {"evil.example:9091", "evil.example", "", "127.0.0.1.evil.example", "[::2]:9091"}) {
      assertThat(call(api, "DELETE", "/locks/idp%7Cmallory", host, "Bearer " + ALICE).status()).as(host).isEqualTo(421);
    }
    assertThat(call(api, "GET", "/health", null, null).status()).isEqualTo(421);
    for (String host : new String[] {"127.0.0.1", "localhost:9091", "[::1]:9091", "fhirwall-admin.internal:9091"}) {
      assertThat(call(api, "GET", "/health", host, null).status()).as(host).isEqualTo(200);
    }
  }

  @Test
  void shortOrMalformedTokensAreRefusedAtStart() throws IOException {
    Path shortToken = Files.writeString(dir.resolve("short"), "alice secret\n", UTF_8);
    assertThatThrownBy(() -> AdminAccess.of(shortToken, "127.0.0.1", List.of())).hasMessageContaining("at least 32");
    Path empty = Files.writeString(dir.resolve("empty"), "# nobody\n", UTF_8);
    assertThatThrownBy(() -> AdminAccess.of(empty, "127.0.0.1", List.of())).hasMessageContaining("no token");
  }
}
