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
 * asking is refused (503), as with {@code deny}. A request of a role that refuses at its limit is admitted and checked
 * for a hold in one call while Redis answers, and from this replica's share when it does not.
 */
class FallbackQuotaStoreTest {
  final Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  /** A refusing role's limits: on the fallback (two replicas), 50 requests a second, 1 at a time, 1 patient an hour. */
  final RateLimit rate = new RateLimit(100, 100, 2);
  final PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 2);
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

  // --- a role that refuses at its limit: its admission and hold check ---------------------------

  private QuotaStore.Admission admitWithHold(String account, String named, Instant now) {
    return store.admit(account, rate, 1, true, new QuotaStore.HoldCheck(List.of(hour), Set.of(named)), now);
  }

  /** While Redis answers, the admission and its hold check go in one call, as with the Redis store alone. */
  @Test
  void whileRedisAnswersAnAdmissionAndItsHoldCheckAreOneCall() throws Exception {
    done(store.charge(new ChargeRequest("refuser", List.of(hour), Set.of("p1", "p2"), t0, true)));
    redis.command("CONFIG", "RESETSTAT");
    QuotaStore.Admission a = admitWithHold("refuser", "p3", t0.plusSeconds(1));
    assertThat(a.forwardNow()).as("a held request is never sent ahead").isFalse();
    assertThat(done(a.entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(a.held())).as("the hour is full and p3 is not in it")
        .hasValueSatisfying(h -> assertThat(h.full()).isEqualTo(hour));
    assertThat(RedisQuotaStoreTest.scriptCalls(redis)).as("the admission and the hold check: one round trip").isEqualTo(1);
    assertThat(store.degraded()).isFalse();
    ((RateGate.Entry.Entered) done(a.entry())).ticket().exit();
  }

  /** Redis gone during the call: the admission and the check are this replica's, against its share; never unlimited. */
  @Test
  void anAdmissionWithAHoldCheckWhoseRedisCallFailsIsAnsweredFromThisReplicasShare() throws Exception {
    redis.kill();
    QuotaStore.Admission first = admitWithHold("refuser", "p1", t0);
    assertThat(done(first.entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(first.held())).as("nothing held by this replica").isEmpty();
    assertThat(store.degraded()).isTrue();
    assertThat(done(admitWithHold("refuser", "p1", t0).entry())).as("1 of 2 concurrent: this replica's share")
        .isInstanceOf(RateGate.Entry.Refused.class);
  }

  /** On the fallback, a full window of this replica's share still holds a request of a role that refuses at its limit. */
  @Test
  void onTheFallbackAFullShareOfAWindowHoldsTheRequest() throws Exception {
    redis.kill();
    assertThat(done(store.charge(new ChargeRequest("refuser", List.of(hour), Set.of("p1"), t0, true))))
        .isInstanceOf(ChargeResult.Admitted.class);
    assertThat(store.degraded()).isTrue();
    QuotaStore.Admission named = admitWithHold("refuser", "p1", t0.plusSeconds(1));
    assertThat(done(named.entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(named.held())).as("p1 is counted: it may go").isEmpty();
    ((RateGate.Entry.Entered) done(named.entry())).ticket().exit();
    QuotaStore.Admission other = admitWithHold("refuser", "p2", t0.plusSeconds(2));
    assertThat(other.forwardNow()).isFalse();
    assertThat(done(other.held())).as("this replica's half of the hour is full and p2 is not in it")
        .hasValueSatisfying(h -> assertThat(h.full().max()).isEqualTo(1));
    ((RateGate.Entry.Entered) done(other.entry())).ticket().exit();
  }

  /** A read goes ahead as the Redis store decides while Redis answers; answered from this replica's share if it fails. */
  @Test
  void aReadGoesAheadAsWithTheRedisStoreWhileRedisAnswersAndNeverOnTheFallback() throws Exception {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    RateLimit limit = new RateLimit(1000, 1000, 10);
    try (FallbackQuotaStore timed = new FallbackQuotaStore(RedisQuotaStore.connect(RedisQuotaStoreTest.settings(redis.url(),
        Duration.ofMillis(500)), Duration.ofSeconds(10), nanos::get), 2, 100, Runnable::run)) {
      QuotaStore.Admission first = timed.admit("ahead", limit, 1, true, t0);
      assertThat(first.forwardNow()).as("never admitted before: waits").isFalse();
      ((RateGate.Entry.Entered) done(first.entry())).ticket().exit();
      QuotaStore.Admission read = timed.admit("ahead", limit, 1, true, t0);
      assertThat(read.forwardNow()).as("admitted a moment ago").isTrue();
      ((RateGate.Entry.Entered) done(read.entry())).ticket().exit();

      redis.kill();
      QuotaStore.Admission failing = timed.admit("ahead", limit, 1, true, t0);
      assertThat(done(failing.entry())).as("Redis failed: admitted by this replica's share, not unlimited, not refused")
          .isInstanceOf(RateGate.Entry.Entered.class);
      assertThat(timed.degraded()).isTrue();
      ((RateGate.Entry.Entered) done(failing.entry())).ticket().exit();
      QuotaStore.Admission onFallback = timed.admit("ahead", limit, 1, true, t0);
      assertThat(onFallback.forwardNow()).as("this replica's share answers at once").isFalse();
      ((RateGate.Entry.Entered) done(onFallback.entry())).ticket().exit();
    }
  }
}
