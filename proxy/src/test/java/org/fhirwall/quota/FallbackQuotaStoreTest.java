package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code quota.on-store-failure: local-fallback} while Redis is down: limits are served from this
 * replica's share, but a binding (whose bulk export a job or file is) is never answered from what
 * this replica alone knows — every replica's bindings are in Redis — so it fails, and the request
 * asking is refused (503), as with {@code deny}.
 */
class FallbackQuotaStoreTest {
  final Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  RedisProcess redis;
  FallbackQuotaStore store;

  @BeforeEach
  void start() throws Exception {
    redis = RedisProcess.start();
    store = new FallbackQuotaStore(RedisQuotaStore.connect(RedisQuotaStoreTest.settings(redis.url(), Duration.ofMillis(500)),
        Duration.ofSeconds(10)), 2, 100, Runnable::run);
  }

  @AfterEach
  void stop() throws Exception {
    store.close();
    redis.close();
  }

  static <T> T done(java.util.concurrent.CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  @Test
  void bindingsGoToRedisAndFailWhileItIsDownWhereLimitsFallBack() throws Exception {
    assertThat(done(store.bind("export-job:j1", "idp|a", Duration.ofHours(24), t0))).isTrue();
    assertThat(done(store.ownerOf("export-job:j1", t0))).contains("idp|a");

    redis.kill();
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 10);
    assertThat(done(store.charge(new ChargeRequest("idp|a", List.of(w), Set.of("p1"), t0, true))))
        .as("limits: this replica's share").isInstanceOf(ChargeResult.Admitted.class);
    assertThat(store.degraded()).isTrue();
    assertThatThrownBy(() -> done(store.ownerOf("export-job:j1", t0))).isInstanceOf(CompletionException.class);
    assertThatThrownBy(() -> done(store.ownerOf("export-job:unknown", t0))).as("not \"nobody's\": unknown")
        .isInstanceOf(CompletionException.class);
    assertThatThrownBy(() -> done(store.bind("export-job:j2", "idp|b", Duration.ofHours(24), t0)))
        .isInstanceOf(CompletionException.class);
  }

  /** A principal held by this replica while Redis was down stays held on every replica once it is back. */
  @Test
  void aHoldSetDuringTheOutageIsWrittenIntoRedisWhenItReturns() throws Exception {
    redis.kill();
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 10);
    done(store.hold("idp|a", t0.plus(Duration.ofMinutes(10)), t0));
    assertThat(store.degraded()).isTrue();
    assertThat(done(store.held("idp|a", List.of(w), Set.of(), t0.plusSeconds(1)))).as("held by this replica").isPresent();

    redis.restart();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (store.degraded() && System.nanoTime() < deadline) {
      store.held("idp|b", List.of(w), Set.of(), t0); // calls while degraded probe Redis
      Thread.sleep(100);
    }
    assertThat(store.degraded()).as("back on Redis").isFalse();
    try (RedisQuotaStore other = RedisQuotaStore.connect(RedisQuotaStoreTest.settings(redis.url(), Duration.ofMillis(500)),
        Duration.ofSeconds(10))) {
      assertThat(done(other.held("idp|a", List.of(w), Set.of(), t0.plusSeconds(2)))).as("another replica")
          .hasValueSatisfying(h -> assertThat(h.until()).isEqualTo(t0.plus(Duration.ofMinutes(10))));
    }
  }
}
