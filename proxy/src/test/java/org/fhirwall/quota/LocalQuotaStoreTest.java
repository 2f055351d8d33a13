package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LocalQuotaStoreTest {
  static final Instant T0 = Instant.parse("2026-11-25T08:00:00Z");
  static final PatientWindow HOUR = PatientWindow.of(Duration.ofHours(1), 5);
  static final PatientWindow DAY = PatientWindow.of(Duration.ofHours(24), 8);

  private final LocalQuotaStore store = new LocalQuotaStore(1000, Runnable::run);

  private ChargeResult charge(Instant at, String... patients) {
    return store.charge(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of(patients), at, true)).toCompletableFuture().join();
  }

  @Test
  void aPatientSeenAgainInsideTheWindowCostsNothing() {
    assertThat(charge(T0, "Patient/1", "Patient/2")).isInstanceOfSatisfying(ChargeResult.Admitted.class, a ->
        assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(2, 2));
    assertThat(charge(T0.plusSeconds(60), "Patient/1", "Patient/2", "Patient/3")).isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
      assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(3, 3);
      assertThat(a.newPatients()).isEqualTo(1);
    });
  }

  @Test
  void aResponseThatWouldBreakTheLimitIsRefusedWholeAndCountsNothing() {
    charge(T0, "Patient/1", "Patient/2", "Patient/3", "Patient/4");
    ChargeResult r = charge(T0.plusSeconds(10), "Patient/5", "Patient/6");
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, refused -> {
      assertThat(refused.breached().window()).isEqualTo(HOUR);
      assertThat(refused.breached().distinct()).isEqualTo(6);
      assertThat(refused.usage()).extracting(WindowUsage::distinct).containsExactly(4, 4);
      assertThat(refused.retryAfter()).isEqualTo(Duration.ofHours(1).minusSeconds(10));
    });
    assertThat(charge(T0.plusSeconds(20), "Patient/5")).isInstanceOf(ChargeResult.Admitted.class);
  }

  @Test
  void exactlyAtTheLimitIsAllowed() {
    assertThat(charge(T0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5")).isInstanceOf(ChargeResult.Admitted.class);
    assertThat(charge(T0, "Patient/6")).isInstanceOf(ChargeResult.Refused.class);
  }

  @Test
  void theWindowSlides() {
    charge(T0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    assertThat(charge(T0.plus(Duration.ofMinutes(59)), "Patient/6")).isInstanceOf(ChargeResult.Refused.class);
    assertThat(charge(T0.plus(Duration.ofMinutes(61)), "Patient/6")).isInstanceOfSatisfying(ChargeResult.Admitted.class, a ->
        assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(1, 6));
    ChargeResult daily = charge(T0.plus(Duration.ofMinutes(62)), "Patient/7", "Patient/8", "Patient/9");
    assertThat(daily).isInstanceOfSatisfying(ChargeResult.Refused.class, r -> assertThat(r.breached().window()).isEqualTo(DAY));
  }

  @Test
  void reSeeingAPatientKeepsItInTheWindowFromItsLastDisclosure() {
    hourOnly(T0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    hourOnly(T0.plus(Duration.ofMinutes(50)), "Patient/1");
    assertThat(hourOnly(T0.plus(Duration.ofMinutes(70)), "Patient/6", "Patient/7", "Patient/8", "Patient/9"))
        .isInstanceOf(ChargeResult.Admitted.class);
    assertThat(hourOnly(T0.plus(Duration.ofMinutes(71)), "Patient/10")).as("Patient/1 is still in the hour")
        .isInstanceOf(ChargeResult.Refused.class);
  }

  private ChargeResult hourOnly(Instant at, String... patients) {
    return store.charge(new ChargeRequest("acct-hour", List.of(HOUR), Set.of(patients), at, true)).toCompletableFuture().join();
  }

  @Test
  void aResponseLargerThanTheWholeLimitMayRetryOnlyAfterTheWindow() {
    ChargeResult r = charge(T0, "a", "b", "c", "d", "e", "f", "g");
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, x -> assertThat(x.retryAfter()).isEqualTo(Duration.ofHours(1)));
  }

  @Test
  void reportOnlyCountsBeyondTheLimitAndSaysWhichWindowWouldHaveRefused() {
    charge(T0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    ChargeResult r = store.charge(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of("Patient/6"), T0, false)).toCompletableFuture().join();
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
      assertThat(a.wouldRefuse()).isNotNull();
      assertThat(a.wouldRefuse().window()).isEqualTo(HOUR);
      assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(6, 6);
    });
  }

  @Test
  void concurrentChargesOfOneAccountNeverSlipPastTheLimit() throws Exception {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 100);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger admittedPatients = new AtomicInteger();
    Set<String> all = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<CompletableFuture<Void>> runs = new java.util.ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int thread = t;
      runs.add(CompletableFuture.runAsync(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        for (int i = 0; i < 50; i++) {
          Set<String> batch = new HashSet<>();
          for (int k = 0; k < 3; k++) {
            batch.add("Patient/" + thread + "-" + i + "-" + k);
          }
          ChargeResult r = store.charge(new ChargeRequest("shared", List.of(w), batch, T0, true)).toCompletableFuture().join();
          if (r instanceof ChargeResult.Admitted) {
            admittedPatients.addAndGet(batch.size());
            all.addAll(batch);
          }
        }
      }, pool));
    }
    go.countDown();
    CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).join();
    pool.shutdown();
    assertThat(all).hasSize(admittedPatients.get());
    assertThat(admittedPatients.get()).isEqualTo(99);
    assertThat(store.usage("shared", List.of(w), T0).toCompletableFuture().join().get(0).distinct()).isEqualTo(99);
  }

  @Test
  void locksLastTheirTimeAndCanBeLifted() {
    store.lock("acct", "limit", Duration.ofHours(24), T0).toCompletableFuture().join();
    assertThat(store.lockOf("acct", T0.plusSeconds(3600)).toCompletableFuture().join()).isPresent();
    assertThat(store.locks(T0).toCompletableFuture().join()).extracting(Lock::account).containsExactly("acct");
    assertThat(store.lockOf("acct", T0.plus(Duration.ofHours(25))).toCompletableFuture().join()).isEqualTo(Optional.empty());
    store.lock("acct", "limit", Duration.ofHours(24), T0).toCompletableFuture().join();
    assertThat(store.unlock("acct").toCompletableFuture().join()).isTrue();
    assertThat(store.lockOf("acct", T0).toCompletableFuture().join()).isEmpty();
    assertThat(store.unlock("acct").toCompletableFuture().join()).isFalse();
  }

  @Test
  void aShorterLockNeverShortensOneInForce() {
    store.lock("acct", "limit", Duration.ofHours(24), T0).toCompletableFuture().join();
    Lock l = store.lock("acct", "again", Duration.ofHours(1), T0.plusSeconds(10)).toCompletableFuture().join();
    assertThat(l.until()).isEqualTo(T0.plus(Duration.ofHours(24)));
  }

  @Test
  void aFullStoreRefusesNewAccountsInsteadOfForgettingLiveOnes() {
    LocalQuotaStore small = new LocalQuotaStore(2, Runnable::run);
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 10);
    small.charge(new ChargeRequest("a", List.of(w), Set.of("p"), T0, true)).toCompletableFuture().join();
    small.charge(new ChargeRequest("b", List.of(w), Set.of("p"), T0, true)).toCompletableFuture().join();
    assertThat(small.charge(new ChargeRequest("c", List.of(w), Set.of("p"), T0, true)).toCompletableFuture())
        .isCompletedExceptionally();
    assertThat(small.usage("a", List.of(w), T0).toCompletableFuture().join().get(0).distinct()).isEqualTo(1);
  }
}
