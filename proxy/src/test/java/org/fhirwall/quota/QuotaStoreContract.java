package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every quota store must answer alike: the local store and the Redis store run this same
 * suite ({@link LocalQuotaStoreTest}, {@link RedisQuotaStoreTest}). Time is the test's: {@code T0}
 * is the start of the test (Redis expires keys by its own clock, so the tests stay near it) and
 * later instants are given explicitly, never slept for.
 */
abstract class QuotaStoreContract {
  static final PatientWindow HOUR = PatientWindow.of(Duration.ofHours(1), 5);
  static final PatientWindow DAY = PatientWindow.of(Duration.ofHours(24), 8);

  final Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  QuotaStore store;

  /** A fresh, empty store. */
  abstract QuotaStore newStore() throws Exception;

  @BeforeEach
  void open() throws Exception {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static <T> T done(java.util.concurrent.CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private ChargeResult charge(Instant at, String... patients) {
    return done(store.charge(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of(patients), at, true)));
  }

  private ChargeResult hourOnly(Instant at, String... patients) {
    return done(store.charge(new ChargeRequest("acct-hour", List.of(HOUR), Set.of(patients), at, true)));
  }

  // --- windows --------------------------------------------------------------------------------

  @Test
  void aPatientSeenAgainInsideTheWindowCostsNothing() {
    assertThat(charge(t0, "Patient/1", "Patient/2")).isInstanceOfSatisfying(ChargeResult.Admitted.class, a ->
        assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(2, 2));
    assertThat(charge(t0.plusSeconds(60), "Patient/1", "Patient/2", "Patient/3")).isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
      assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(3, 3);
      assertThat(a.newPatients()).isEqualTo(1);
    });
  }

  @Test
  void aResponseThatWouldBreakTheLimitIsRefusedWholeAndCountsNothing() {
    charge(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4");
    ChargeResult r = charge(t0.plusSeconds(10), "Patient/5", "Patient/6");
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, refused -> {
      assertThat(refused.breached().window()).isEqualTo(HOUR);
      assertThat(refused.breached().distinct()).isEqualTo(6);
      assertThat(refused.usage()).extracting(WindowUsage::distinct).containsExactly(4, 4);
      assertThat(refused.retryAfter()).isEqualTo(Duration.ofHours(1).minusSeconds(10));
    });
    assertThat(charge(t0.plusSeconds(20), "Patient/5")).isInstanceOf(ChargeResult.Admitted.class);
  }

  @Test
  void exactlyAtTheLimitIsAllowed() {
    assertThat(charge(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5")).isInstanceOf(ChargeResult.Admitted.class);
    assertThat(charge(t0, "Patient/6")).isInstanceOf(ChargeResult.Refused.class);
  }

  @Test
  void theWindowSlides() {
    charge(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    assertThat(charge(t0.plus(Duration.ofMinutes(59)), "Patient/6")).isInstanceOf(ChargeResult.Refused.class);
    assertThat(charge(t0.plus(Duration.ofMinutes(61)), "Patient/6")).isInstanceOfSatisfying(ChargeResult.Admitted.class, a ->
        assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(1, 6));
    ChargeResult daily = charge(t0.plus(Duration.ofMinutes(62)), "Patient/7", "Patient/8", "Patient/9");
    assertThat(daily).isInstanceOfSatisfying(ChargeResult.Refused.class, r -> assertThat(r.breached().window()).isEqualTo(DAY));
  }

  @Test
  void reSeeingAPatientKeepsItInTheWindowFromItsLastDisclosure() {
    hourOnly(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    hourOnly(t0.plus(Duration.ofMinutes(50)), "Patient/1");
    assertThat(hourOnly(t0.plus(Duration.ofMinutes(70)), "Patient/6", "Patient/7", "Patient/8", "Patient/9"))
        .isInstanceOf(ChargeResult.Admitted.class);
    assertThat(hourOnly(t0.plus(Duration.ofMinutes(71)), "Patient/10")).as("Patient/1 is still in the hour")
        .isInstanceOf(ChargeResult.Refused.class);
  }

  @Test
  void aResponseLargerThanTheWholeLimitMayRetryOnlyAfterTheWindow() {
    ChargeResult r = charge(t0, "a", "b", "c", "d", "e", "f", "g");
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, x -> assertThat(x.retryAfter()).isEqualTo(Duration.ofHours(1)));
  }

  @Test
  void reportOnlyCountsBeyondTheLimitAndSaysWhichWindowWouldHaveRefused() {
    charge(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    ChargeResult r = done(store.charge(new ChargeRequest("acct", List.of(HOUR, DAY), Set.of("Patient/6"), t0, false)));
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
      assertThat(a.wouldRefuse()).isNotNull();
      assertThat(a.wouldRefuse().window()).isEqualTo(HOUR);
      assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(6, 6);
    });
  }

  @Test
  void breakGlassRaisesTheCeilingOfTheSameAccountAndSeesEverythingDisclosedBefore() {
    PatientWindow role = PatientWindow.of(Duration.ofHours(1), 3);
    PatientWindow glass = PatientWindow.of(Duration.ofHours(24), 5);
    Set<Duration> tracked = Set.of(role.length(), glass.length());
    assertThat(done(store.charge(new ChargeRequest("doc", List.of(role), tracked, Set.of("a", "b", "c"), t0, true))))
        .isInstanceOf(ChargeResult.Admitted.class);
    assertThat(done(store.charge(new ChargeRequest("doc", List.of(role), tracked, Set.of("d"), t0, true))))
        .isInstanceOf(ChargeResult.Refused.class);
    assertThat(done(store.charge(new ChargeRequest("doc", List.of(glass), tracked, Set.of("d", "e"), t0.plusSeconds(1), true))))
        .as("under break-glass the 24h ceiling counts the three seen before").isInstanceOfSatisfying(ChargeResult.Admitted.class,
            a -> assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(5));
    assertThat(done(store.charge(new ChargeRequest("doc", List.of(glass), tracked, Set.of("f"), t0.plusSeconds(2), true))))
        .as("not a second pool").isInstanceOf(ChargeResult.Refused.class);
  }

  // --- the unexplained budget (patients outside the principal's care relationships) -----------

  static final PatientWindow STRANGERS = PatientWindow.unexplained(Duration.ofHours(24), 3);

  private ChargeResult withStrangers(Instant at, boolean enforceStrangers, Set<String> patients, Set<String> strangers) {
    return done(store.charge(new ChargeRequest("acct-care", List.of(HOUR, DAY), Set.of(), patients, at, true,
        new ChargeRequest.Unexplained(List.of(STRANGERS), Set.of(), strangers, enforceStrangers))));
  }

  @Test
  void explainedPatientsNeverTouchTheUnexplainedBudget() {
    ChargeResult r = withStrangers(t0, true, Set.of("Patient/1", "Patient/2", "Patient/3", "Patient/4"), Set.of());
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
      assertThat(a.usage()).extracting(u -> u.window().name()).containsExactly("1h", "24h", "unexplained-24h");
      assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(4, 4, 0);
    });
  }

  @Test
  void theUnexplainedBudgetRefusesLongBeforeTheOverallLimitAndCountsNothing() {
    assertThat(withStrangers(t0, true, Set.of("Patient/1", "Patient/s1", "Patient/s2"),
        Set.of("Patient/s1", "Patient/s2"))).isInstanceOf(ChargeResult.Admitted.class);
    ChargeResult r = withStrangers(t0.plusSeconds(10), true, Set.of("Patient/s3", "Patient/s4"), Set.of("Patient/s3", "Patient/s4"));
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, refused -> {
      assertThat(refused.breached().window()).isEqualTo(STRANGERS);
      assertThat(refused.breached().distinct()).isEqualTo(4);
      assertThat(refused.usage()).extracting(WindowUsage::distinct).containsExactly(3, 3, 2);
      assertThat(refused.retryAfter()).isEqualTo(Duration.ofHours(24).minusSeconds(10));
    });
    // nothing of the refused response was counted, in either budget
    assertThat(withStrangers(t0.plusSeconds(20), true, Set.of("Patient/s3"), Set.of("Patient/s3")))
        .isInstanceOfSatisfying(ChargeResult.Admitted.class, a ->
            assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(4, 4, 3));
  }

  @Test
  void theOverallLimitStillRefusesWhenTheUnexplainedBudgetHasRoom() {
    withStrangers(t0, true, Set.of("Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5"), Set.of());
    ChargeResult r = withStrangers(t0.plusSeconds(1), true, Set.of("Patient/6"), Set.of());
    assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, refused ->
        assertThat(refused.breached().window()).isEqualTo(HOUR));
  }

  @Test
  void aPatientExplainedOnceAndUnexplainedLaterCountsAsUnexplainedThen() {
    withStrangers(t0, true, Set.of("Patient/1"), Set.of());
    assertThat(withStrangers(t0.plusSeconds(5), true, Set.of("Patient/1"), Set.of("Patient/1")))
        .isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
          assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(1, 1, 1);
          assertThat(a.newPatients()).isZero();
        });
  }

  @Test
  void aReportOnlyUnexplainedBudgetRecordsBeyondItsLimitAndSaysSoWhileTheOverallOneEnforces() {
    withStrangers(t0, false, Set.of("Patient/s1", "Patient/s2", "Patient/s3"), Set.of("Patient/s1", "Patient/s2", "Patient/s3"));
    assertThat(withStrangers(t0.plusSeconds(1), false, Set.of("Patient/s4"), Set.of("Patient/s4")))
        .isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> {
          assertThat(a.wouldRefuse()).isNotNull();
          assertThat(a.wouldRefuse().window()).isEqualTo(STRANGERS);
          assertThat(a.usage()).extracting(WindowUsage::distinct).containsExactly(4, 4, 4);
        });
    assertThat(withStrangers(t0.plusSeconds(2), false, Set.of("Patient/s5", "Patient/s6"), Set.of("Patient/s5", "Patient/s6")))
        .isInstanceOfSatisfying(ChargeResult.Refused.class, r -> assertThat(r.breached().window()).isEqualTo(HOUR));
  }

  @Test
  void concurrentChargesNeverSlipPastTheUnexplainedLimit() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<ChargeResult>> results = new ArrayList<>();
      CountDownLatch go = new CountDownLatch(1);
      for (int i = 0; i < 16; i++) {
        String stranger = "Patient/c" + i;
        results.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return done(store.charge(new ChargeRequest("acct-race", List.of(PatientWindow.of(Duration.ofHours(1), 100)), Set.of(),
              Set.of(stranger), t0, true, new ChargeRequest.Unexplained(List.of(STRANGERS), Set.of(), Set.of(stranger), true))));
        }, pool));
      }
      go.countDown();
      long admitted = results.stream().map(CompletableFuture::join).filter(r -> r instanceof ChargeResult.Admitted).count();
      assertThat(admitted).isEqualTo(STRANGERS.max());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void usageReadsTheWindowsAsTheyStand() {
    charge(t0, "Patient/1", "Patient/2");
    assertThat(done(store.usage("acct", List.of(HOUR, DAY), t0.plusSeconds(5)))).extracting(WindowUsage::distinct)
        .containsExactly(2, 2);
    assertThat(done(store.usage("acct", List.of(HOUR, DAY), t0.plus(Duration.ofMinutes(90))))).extracting(WindowUsage::distinct)
        .containsExactly(0, 2);
    assertThat(done(store.usage("nobody", List.of(HOUR), t0))).extracting(WindowUsage::distinct).containsExactly(0);
  }

  @Test
  void concurrentChargesOfOneAccountNeverSlipPastTheLimit() throws Exception {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 100);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger admittedPatients = new AtomicInteger();
    Set<String> all = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<CompletableFuture<Void>> runs = new ArrayList<>();
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
          ChargeResult r = done(store.charge(new ChargeRequest("shared", List.of(w), batch, t0, true)));
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
    assertThat(done(store.usage("shared", List.of(w), t0)).get(0).distinct()).isEqualTo(99);
  }

  @Test
  void aLargeResponseIsChargedWhole() {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 5000);
    Set<String> many = new HashSet<>();
    for (int i = 0; i < 2500; i++) {
      many.add("Patient/" + i);
    }
    assertThat(done(store.charge(new ChargeRequest("bulk", List.of(w), many, t0, true)))).isInstanceOfSatisfying(
        ChargeResult.Admitted.class, a -> assertThat(a.newPatients()).isEqualTo(2500));
    many.add("Patient/new");
    assertThat(done(store.charge(new ChargeRequest("bulk", List.of(w), many, t0, true)))).isInstanceOfSatisfying(
        ChargeResult.Admitted.class, a -> assertThat(a.newPatients()).isEqualTo(1));
  }

  // --- locks ----------------------------------------------------------------------------------

  @Test
  void locksLastTheirTimeAndCanBeLifted() {
    done(store.lock("acct", "limit", Duration.ofHours(24), t0));
    assertThat(done(store.lockOf("acct", t0.plusSeconds(3600)))).isPresent();
    assertThat(done(store.locks(t0))).extracting(Lock::account).containsExactly("acct");
    assertThat(done(store.lockOf("acct", t0.plus(Duration.ofHours(25))))).isEqualTo(Optional.empty());
    done(store.lock("acct", "limit", Duration.ofHours(24), t0));
    assertThat(done(store.unlock("acct"))).isTrue();
    assertThat(done(store.lockOf("acct", t0))).isEmpty();
    assertThat(done(store.unlock("acct"))).isFalse();
  }

  @Test
  void aShorterLockNeverShortensOneInForce() {
    done(store.lock("acct", "limit", Duration.ofHours(24), t0));
    Lock l = done(store.lock("acct", "again", Duration.ofHours(1), t0.plusSeconds(10)));
    assertThat(l.until()).isEqualTo(t0.plus(Duration.ofHours(24)));
    assertThat(l.reason()).isEqualTo("limit");
  }

  @Test
  void anAccountNameWithBracesIsItsOwnAccount() {
    done(store.lock("https://idp|{x}", "limit", Duration.ofHours(1), t0));
    assertThat(done(store.lockOf("https://idp|{x}", t0))).isPresent();
    assertThat(done(store.lockOf("https://idp|x", t0))).isEmpty();
  }

  // --- rate and concurrency -------------------------------------------------------------------

  @Test
  void aBurstAboveTheRateIsRefusedWithARetryTime() {
    RateLimit limit = new RateLimit(0.5, 3, 10);
    List<RateGate.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      RateGate.Entry e = done(store.enter("alice", limit, 1, t0));
      entries.add(e);
      if (e instanceof RateGate.Entry.Entered in) {
        in.ticket().exit();
      }
    }
    assertThat(entries).filteredOn(e -> e instanceof RateGate.Entry.Entered).hasSize(3);
    assertThat(entries.get(4)).isInstanceOfSatisfying(RateGate.Entry.Refused.class,
        r -> assertThat(r.retryAfter().toMillis()).isEqualTo(2000));
    assertThat(done(store.enter("alice", limit, 1, t0.plusMillis(1999)))).isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(done(store.enter("alice", limit, 1, t0.plusSeconds(2)))).as("one permit back after 1/rate")
        .isInstanceOf(RateGate.Entry.Entered.class);
  }

  @Test
  void concurrencyIsPerPrincipalAndReleasedOnExit() throws Exception {
    RateLimit limit = new RateLimit(1000, 1000, 2);
    RateGate.Entry a = done(store.enter("bob", limit, 1, t0));
    RateGate.Entry b = done(store.enter("bob", limit, 1, t0));
    assertThat(done(store.enter("bob", limit, 1, t0))).isInstanceOfSatisfying(RateGate.Entry.Refused.class,
        r -> assertThat(r.reason()).contains("more than 2 requests at once"));
    assertThat(done(store.enter("carol", limit, 1, t0))).isInstanceOf(RateGate.Entry.Entered.class);
    ((RateGate.Entry.Entered) a).ticket().exit();
    ((RateGate.Entry.Entered) a).ticket().exit();
    awaitEntered("bob", limit);
    assertThat(done(store.enter("bob", limit, 1, t0.plusMillis(2)))).as("a double exit frees one slot only")
        .isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(b).isInstanceOf(RateGate.Entry.Entered.class);
  }

  @Test
  void manyRequestsAtOnceGetExactlyTheConcurrencyAndTheBurst() {
    RateLimit wide = new RateLimit(1_000_000, 1_000_000, 40);
    List<CompletableFuture<RateGate.Entry>> crowd = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      crowd.add(store.enter("crowd", wide, 1, t0).toCompletableFuture());
    }
    List<RateGate.Entry> entries = crowd.stream().map(CompletableFuture::join).toList();
    assertThat(entries).filteredOn(e -> e instanceof RateGate.Entry.Entered).hasSize(40);
    assertThat(entries).filteredOn(e -> e instanceof RateGate.Entry.Refused r && r.reason().contains("40 requests at once"))
        .hasSize(160);

    RateLimit burst = new RateLimit(1, 25, 1000);
    List<CompletableFuture<RateGate.Entry>> rush = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      rush.add(store.enter("rush", burst, 1, t0).toCompletableFuture());
    }
    List<RateGate.Entry> rushed = rush.stream().map(CompletableFuture::join).toList();
    assertThat(rushed).filteredOn(e -> e instanceof RateGate.Entry.Entered).hasSize(25);
    assertThat(rushed).filteredOn(e -> e instanceof RateGate.Entry.Refused r && r.reason().contains("per second")).hasSize(75);
  }

  @Test
  void reReadsInterleavedWithNewPatientsCountEachPatientOnce() {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 30);
    int admitted = 0;
    for (int i = 0; i < 60; i++) {
      Set<String> answer = new HashSet<>(List.of("Patient/" + i, "Patient/" + (i / 2), "Patient/0"));
      ChargeResult r = done(store.charge(new ChargeRequest("reader", List.of(w), answer, t0.plusSeconds(i), true)));
      if (r instanceof ChargeResult.Admitted) {
        admitted = i;
      } else {
        assertThat(r).isInstanceOfSatisfying(ChargeResult.Refused.class, x -> assertThat(x.breached().distinct()).isEqualTo(31));
        break;
      }
      for (int j = 0; j <= i; j += 7) {
        assertThat(done(store.charge(new ChargeRequest("reader", List.of(w), Set.of("Patient/" + j), t0.plusSeconds(i), true))))
            .as("re-reading Patient/%d", j).isInstanceOf(ChargeResult.Admitted.class);
      }
    }
    assertThat(admitted).as("Patient/0 .. Patient/29 admitted, Patient/30 refused").isEqualTo(29);
    assertThat(done(store.usage("reader", List.of(w), t0.plusSeconds(60))).get(0).distinct()).isEqualTo(30);
  }

  /** An exit may travel to the store asynchronously: poll, with a deadline, until the slot is back. */
  private void awaitEntered(String account, RateLimit limit) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!(done(store.enter(account, limit, 1, t0.plusMillis(1))) instanceof RateGate.Entry.Entered)) {
      assertThat(System.nanoTime()).as("the slot given back").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void aLockedAccountIsRefusedInTheSameStepAsItsRateAndTakesNoSlot() {
    RateLimit limit = new RateLimit(1000, 1000, 1);
    done(store.lock("gina", "limit reached", Duration.ofHours(1), t0));
    assertThat(done(store.enter("gina", limit, 1, t0.plusSeconds(1)))).isInstanceOfSatisfying(RateGate.Entry.Locked.class,
        l -> assertThat(l.lock().until()).isEqualTo(t0.plus(Duration.ofHours(1))));
    done(store.unlock("gina"));
    assertThat(done(store.enter("gina", limit, 1, t0.plusSeconds(2)))).as("the locked tries held no concurrency slot")
        .isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(store.enter("gina", limit, 1, t0.plusSeconds(3)))).as("that one holds it").isInstanceOf(RateGate.Entry.Refused.class);
  }

  @Test
  void eachEntryOfABundleCountsAgainstTheRate() {
    RateLimit limit = new RateLimit(1, 10, 10);
    RateGate.Entry batch = done(store.enter("dave", limit, 8, t0));
    assertThat(batch).isInstanceOf(RateGate.Entry.Entered.class);
    ((RateGate.Entry.Entered) batch).ticket().exit();
    assertThat(done(store.enter("dave", limit, 3, t0))).as("8 of the burst of 10 used").isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(done(store.enter("erin", limit, 11, t0))).as("more entries than the burst can ever take")
        .isInstanceOfSatisfying(RateGate.Entry.Refused.class, r -> assertThat(r.reason()).contains("11 requests in one"));
  }

  @Test
  void noPrincipalTakesMoreThanItsShareOfTheEpr() {
    Enforcement e = new Enforcement(store, 2, Enforcement.FailureRules.DEFAULT);
    RateLimit generous = new RateLimit(1000, 1000, 50);
    assertThat(done(e.admit("frank", generous, 1, false, null, t0).entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(e.admit("frank", generous, 1, false, null, t0).entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(e.admit("frank", generous, 1, false, null, t0).entry())).isInstanceOfSatisfying(RateGate.Entry.Refused.class,
        r -> assertThat(r.reason()).contains("more than 2 requests at once"));
  }

  // --- event watches --------------------------------------------------------------------------

  @Test
  void manyMissesInTheWindowFireTheSignalOnce() {
    for (int i = 0; i < 5; i++) {
      assertThat(done(store.recordEvents("not-found", "walker", 1, Duration.ofMinutes(10), 5, t0.plusSeconds(i)))).isFalse();
    }
    assertThat(done(store.recordEvents("not-found", "walker", 1, Duration.ofMinutes(10), 5, t0.plusSeconds(6)))).isTrue();
    assertThat(done(store.recordEvents("not-found", "walker", 1, Duration.ofMinutes(10), 5, t0.plusSeconds(7)))).isFalse();
    assertThat(done(store.recordEvents("epr-failure", "walker", 1, Duration.ofMinutes(10), 5, t0.plusSeconds(8))))
        .as("each watch counts its own events").isFalse();
  }

  @Test
  void severalEventsAtOnceCountOneByOneAndOldOnesLeaveTheWindow() {
    assertThat(done(store.recordEvents("not-found", "batch", 5, Duration.ofMinutes(10), 5, t0))).isFalse();
    assertThat(done(store.recordEvents("not-found", "batch", 1, Duration.ofMinutes(10), 5, t0.plusSeconds(1)))).isTrue();
    for (int i = 0; i < 5; i++) {
      done(store.recordEvents("not-found", "slow", 1, Duration.ofMinutes(10), 5, t0.plus(Duration.ofMinutes(3L * i))));
    }
    assertThat(done(store.recordEvents("not-found", "slow", 1, Duration.ofMinutes(10), 5, t0.plus(Duration.ofMinutes(15)))))
        .isFalse();
  }

  // --- secrets --------------------------------------------------------------------------------

  @Test
  void theFirstProposedSecretIsTheOneEveryoneGets() {
    byte[] first = done(store.sharedSecret("paging", "a".repeat(32).getBytes()));
    byte[] second = done(store.sharedSecret("paging", "b".repeat(32).getBytes()));
    assertThat(first).isEqualTo("a".repeat(32).getBytes());
    assertThat(second).isEqualTo(first);
  }

  // --- seen once ------------------------------------------------------------------------------

  @Test
  void aKeyIsSeenOnceThenRefusedWhateverTheCaller() {
    assertThat(done(store.seenOnce("dpop:jkt1:jti-1", Duration.ofMinutes(2), t0))).isTrue();
    assertThat(done(store.seenOnce("dpop:jkt1:jti-1", Duration.ofMinutes(2), t0.plusSeconds(1)))).isFalse();
    assertThat(done(store.seenOnce("dpop:jkt1:jti-2", Duration.ofMinutes(2), t0.plusSeconds(1)))).isTrue();
  }

  @Test
  void twoCallersPresentingTheSameKeyAtOnceGetOneTrue() {
    var stages = java.util.stream.IntStream.range(0, 16)
        .mapToObj(i -> store.seenOnce("dpop:race", Duration.ofMinutes(2), t0).toCompletableFuture()).toList();
    assertThat(stages.stream().map(java.util.concurrent.CompletableFuture::join).filter(b -> b).count()).isEqualTo(1);
  }

  // --- holds (at-limit: refuse; a full window, or an answer refused over a limit) ------------------

  /** A rate and a concurrency no test of the holds reaches. */
  static final RateLimit GENEROUS = new RateLimit(1000, 1000, 100);

  /**
   * Whether a request of acct-hour naming {@code named} is held at {@code at}, asked both ways a store is asked: alone
   * ({@link QuotaStore#held}) and with the request's admission ({@link QuotaStore#admit} with a hold check, as the
   * exchange asks; the Redis store makes both in one call). The two answers must agree.
   */
  private java.util.Optional<QuotaStore.Held> held(Instant at, String... named) {
    java.util.Optional<QuotaStore.Held> alone = done(store.held("acct-hour", List.of(HOUR), Set.of(named), at));
    assertThat(heldOnAdmission("acct-hour", at, named)).as("asked with the admission").isEqualTo(alone);
    return alone;
  }

  private java.util.Optional<QuotaStore.Held> heldOnAdmission(String account, Instant at, String... named) {
    QuotaStore.Admission a = store.admit(account, GENEROUS, 1, false, new QuotaStore.HoldCheck(List.of(HOUR), Set.of(named)), at);
    assertThat(a.forwardNow()).as("a request with a hold check never goes ahead").isFalse();
    assertThat(a.held()).isNotNull();
    RateGate.Entry e = done(a.entry());
    assertThat(e).isInstanceOf(RateGate.Entry.Entered.class);
    java.util.Optional<QuotaStore.Held> held = done(a.held());
    ((RateGate.Entry.Entered) e).ticket().exit();
    return held;
  }

  @Test
  void anAdmissionWithAHoldCheckIsStillRefusedWhenLockedOrOverTheRate() {
    done(store.lock("acct-locked", "test", Duration.ofHours(1), t0));
    QuotaStore.HoldCheck check = new QuotaStore.HoldCheck(List.of(HOUR), Set.of());
    assertThat(done(store.admit("acct-locked", GENEROUS, 1, false, check, t0.plusSeconds(1)).entry()))
        .isInstanceOf(RateGate.Entry.Locked.class);
    RateLimit one = new RateLimit(0.001, 1, 10);
    QuotaStore.Admission first = store.admit("acct-rate", one, 1, false, check, t0);
    assertThat(done(first.entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(first.held())).as("nothing counted, no hold").isEmpty();
    ((RateGate.Entry.Entered) done(first.entry())).ticket().exit();
    assertThat(done(store.admit("acct-rate", one, 1, false, check, t0.plusMillis(10)).entry())).as("over the rate")
        .isInstanceOf(RateGate.Entry.Refused.class);
  }

  @Test
  void aFullWindowHoldsTheAccountUntilItsOldestPatientLeaves() {
    hourOnly(t0, "Patient/1", "Patient/2");
    hourOnly(t0.plusSeconds(30), "Patient/3", "Patient/4");
    assertThat(held(t0.plusSeconds(40))).as("one place left").isEmpty();
    hourOnly(t0.plusSeconds(60), "Patient/5");
    assertThat(held(t0.plusSeconds(70))).hasValueSatisfying(h -> {
      assertThat(h.full()).isEqualTo(HOUR);
      assertThat(h.until()).isEqualTo(t0.plus(Duration.ofHours(1)));
    });
    assertThat(held(t0.plus(Duration.ofHours(1)).plusMillis(1))).as("Patient/1 and 2 left the hour").isEmpty();
    assertThat(done(store.held("acct-other", List.of(HOUR), Set.of(), t0.plusSeconds(70)))).as("another account").isEmpty();
  }

  @Test
  void aFullWindowLetsThroughOnlyRequestsThatNameCountedPatients() {
    hourOnly(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4", "Patient/5");
    assertThat(held(t0.plusSeconds(1), "Patient/1", "Patient/5")).as("every named patient is counted").isEmpty();
    assertThat(held(t0.plusSeconds(1), "Patient/1", "Patient/6")).as("one is not").isPresent();
    assertThat(held(t0.plusSeconds(1))).as("a request that names nobody").isPresent();
  }

  @Test
  void aWindowFullSinceAnEarlierDisclosureIsHeldUntilEnoughOfItLeaves() {
    // counted beyond the limit while report-only: room comes back only when two have left
    done(store.charge(new ChargeRequest("acct-hour", List.of(HOUR), Set.of("Patient/1", "Patient/2"), t0, false)));
    done(store.charge(new ChargeRequest("acct-hour", List.of(HOUR), Set.of("Patient/3", "Patient/4", "Patient/5", "Patient/6"),
        t0.plusSeconds(20), false)));
    assertThat(held(t0.plusSeconds(30))).hasValueSatisfying(h -> assertThat(h.until())
        .as("6 counted, 5 allowed: the second oldest must leave").isEqualTo(t0.plus(Duration.ofHours(1))));
    assertThat(held(t0.plus(Duration.ofHours(1)).plusSeconds(10))).as("both oldest left, 4 counted")
        .isEmpty();
  }

  @Test
  void anAnswerRefusedOverALimitHoldsTheAccountUntilItsRetryTime() {
    hourOnly(t0, "Patient/1", "Patient/2");
    done(store.hold("acct-hour", t0.plus(Duration.ofMinutes(10)), t0));
    assertThat(held(t0.plusSeconds(1))).hasValueSatisfying(h -> {
      assertThat(h.full()).isNull();
      assertThat(h.until()).isEqualTo(t0.plus(Duration.ofMinutes(10)));
    });
    assertThat(held(t0.plusSeconds(1), "Patient/1")).as("naming counted patients only").isEmpty();
    done(store.hold("acct-hour", t0.plus(Duration.ofMinutes(5)), t0.plusSeconds(2)));
    assertThat(held(t0.plusSeconds(3))).as("a shorter hold never shortens one in force")
        .hasValueSatisfying(h -> assertThat(h.until()).isEqualTo(t0.plus(Duration.ofMinutes(10))));
    assertThat(held(t0.plus(Duration.ofMinutes(10)).plusMillis(1))).isEmpty();
    assertThat(done(store.held("acct-other", List.of(HOUR), Set.of(), t0.plusSeconds(1)))).as("another account").isEmpty();
  }

  /** A charge of the hour's account whose request was hold-checked ({@link ChargeRequest#hold}): held or charged. */
  private ChargeResult checkedCharge(Instant at, Set<String> named, String... patients) {
    return done(store.charge(new ChargeRequest("acct-hour", List.of(HOUR), Set.of(), Set.of(patients), at, true,
        ChargeRequest.Unexplained.NONE, new QuotaStore.HoldCheck(List.of(HOUR), named))));
  }

  private int hourUsage(Instant at) {
    return done(store.usage("acct-hour", List.of(HOUR), at)).get(0).distinct();
  }

  @Test
  void anAnswerThatComesWhenTheWindowIsFullIsHeldWhateverItHolds() {
    hourOnly(t0, "Patient/1", "Patient/2", "Patient/3", "Patient/4");
    assertThat(checkedCharge(t0.plusSeconds(1), Set.of(), "Patient/5")).as("the last place")
        .isInstanceOf(ChargeResult.Admitted.class);
    // answers of requests sent while there was room, coming now: each would tell by its 429 or 200 what it held
    for (String[] answer : new String[][] {{}, {"Patient/1"}, {"Patient/6"}, {"Patient/1", "Patient/7"}}) {
      assertThat(checkedCharge(t0.plusSeconds(2), Set.of(), answer)).as(List.of(answer).toString())
          .isInstanceOfSatisfying(ChargeResult.Held.class, h -> {
            assertThat(h.held().full()).isEqualTo(HOUR);
            assertThat(h.held().until()).isEqualTo(t0.plus(Duration.ofHours(1)));
          });
    }
    assertThat(checkedCharge(t0.plusSeconds(3), Set.of("Patient/1"), "Patient/1")).as("a request naming counted patients alone")
        .isInstanceOf(ChargeResult.Admitted.class);
    assertThat(hourOnly(t0.plusSeconds(3), "Patient/1")).as("an unchecked charge (a role that locks)")
        .isInstanceOf(ChargeResult.Admitted.class);
    assertThat(hourUsage(t0.plusSeconds(4))).as("nothing held was counted").isEqualTo(5);
  }

  @Test
  void aCheckedAnswerRefusedOverALimitHoldsTheAccountInTheSameStep() {
    hourOnly(t0, "Patient/1", "Patient/2", "Patient/3");
    assertThat(checkedCharge(t0.plusSeconds(1), Set.of(), "Patient/4", "Patient/5", "Patient/6"))
        .isInstanceOf(ChargeResult.Refused.class);
    // no hold() call in between: the refusal held the account itself
    assertThat(checkedCharge(t0.plusSeconds(2), Set.of(), "Patient/4")).as("it would fit, but the account is held")
        .isInstanceOfSatisfying(ChargeResult.Held.class, h -> {
          assertThat(h.held().full()).isNull();
          assertThat(h.held().until()).isEqualTo(t0.plus(Duration.ofHours(1)));
        });
    assertThat(held(t0.plusSeconds(2))).as("and so are its next requests").isPresent();
    assertThat(hourUsage(t0.plusSeconds(3))).isEqualTo(3);
  }

  // --- bindings (a bulk export's job and files, bound to the account that kicked it off) ---------

  @Test
  void aKeyBoundToOneOwnerIsItsAloneAndAnotherCannotTakeItOver() {
    assertThat(done(store.ownerOf("export-job:j1", t0))).isEmpty();
    assertThat(done(store.bind("export-job:j1", "idp|warehouse", Duration.ofHours(24), t0))).isTrue();
    assertThat(done(store.ownerOf("export-job:j1", t0.plusSeconds(1)))).contains("idp|warehouse");
    assertThat(done(store.bind("export-job:j1", "idp|other", Duration.ofHours(24), t0.plusSeconds(2)))).isFalse();
    assertThat(done(store.ownerOf("export-job:j1", t0.plusSeconds(3)))).as("left as it was").contains("idp|warehouse");
    assertThat(done(store.bind("export-job:j1", "idp|warehouse", Duration.ofHours(24), t0.plusSeconds(4))))
        .as("the owner binds it again").isTrue();
    assertThat(done(store.ownerOf("export-file:j1", t0))).as("another key").isEmpty();
  }

  @Test
  void twoOwnersBindingOneKeyAtOnceOneWinsAndKeepsIt() {
    var stages = java.util.stream.IntStream.range(0, 16)
        .mapToObj(i -> store.bind("export-file:race", "idp|owner-" + i, Duration.ofHours(1), t0).toCompletableFuture()).toList();
    List<Integer> winners = new ArrayList<>();
    for (int i = 0; i < stages.size(); i++) {
      if (stages.get(i).join()) {
        winners.add(i);
      }
    }
    assertThat(winners).hasSize(1);
    assertThat(done(store.ownerOf("export-file:race", t0))).contains("idp|owner-" + winners.get(0));
  }

}
