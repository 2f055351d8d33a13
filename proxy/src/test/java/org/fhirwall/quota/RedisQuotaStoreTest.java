package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The quota store contract against a real Redis (a process of this test's own), and what only
 * Redis does: keys in one hash slot per principal, keys that expire on their own, scripts reloaded
 * after Redis lost them.
 */
class RedisQuotaStoreTest extends QuotaStoreContract {
  static RedisProcess redis;
  static int database;

  @BeforeAll
  static void startRedis() throws Exception {
    redis = RedisProcess.start();
  }

  @AfterAll
  static void stopRedis() throws Exception {
    if (redis != null) {
      redis.close();
    }
  }

  static RedisQuotaStore.Settings settings(String url, Duration timeout) {
    return new RedisQuotaStore.Settings(url, false, null, null, null, timeout, Duration.ofMinutes(2), Duration.ofSeconds(10),
        "fw:");
  }

  @Override
  QuotaStore newStore() throws Exception {
    redis.command("FLUSHALL");
    return RedisQuotaStore.connect(settings(redis.url(), Duration.ofSeconds(2)), Duration.ofSeconds(10));
  }

  private List<String> keys() throws Exception {
    try (var c = io.lettuce.core.RedisClient.create(redis.url()); var conn = c.connect()) {
      return conn.sync().keys("*");
    }
  }

  @Test
  void everyKeyOfOnePrincipalSharesItsHashSlotAndExpiresOnItsOwn() throws Exception {
    String account = "https://idp.example/realms/x|sub-1";
    Set<Duration> tracked = Set.of(Duration.ofHours(1), Duration.ofHours(24));
    done(store.charge(new ChargeRequest(account, List.of(PatientWindow.of(Duration.ofHours(1), 10)), tracked, Set.of("p1"), t0, true)));
    RateGate.Entry e = done(store.enter(account, new RateLimit(10, 10, 2), 1, t0));
    done(store.recordEvents("not-found", account, 1, Duration.ofMinutes(10), 20, t0));
    done(store.lock(account, "test", Duration.ofHours(1), t0));
    Pattern tag = Pattern.compile("^fw:\\{([^}]*)\\}:(.*)$");
    try (var c = io.lettuce.core.RedisClient.create(redis.url()); var conn = c.connect()) {
      List<String> perAccount = conn.sync().keys("fw:{*");
      assertThat(perAccount).extracting(k -> k.replaceFirst("^fw:\\{[^}]*\\}:", ""))
          .containsExactlyInAnyOrder("w:3600000", "w:86400000", "rate", "inflight", "ev:not-found", "lock");
      for (String k : perAccount) {
        Matcher m = tag.matcher(k);
        assertThat(m.matches()).isTrue();
        assertThat(m.group(1)).as(k).isEqualTo(account);
        assertThat(conn.sync().pttl(k)).as("%s expires on its own", k).isPositive();
      }
    }
    ((RateGate.Entry.Entered) e).ticket().exit();
  }

  @Test
  void anAclUserLimitedToFhirwallsKeysAsTheReadmeSaysCanDoEverything() throws Exception {
    // the ACL line of the README's "Running a cluster"
    assertThat(redis.command("ACL", "SETUSER", "fhirwall", "on", ">acl-secret", "resetkeys", "~fhirwall:*", "resetchannels",
        "-@all", "+@read", "+@write", "+@scripting", "+@connection", "-@dangerous")).isEqualTo("+OK");
    RedisQuotaStore.Settings s = new RedisQuotaStore.Settings(redis.url(), false, "fhirwall", "acl-secret", null,
        Duration.ofSeconds(2), Duration.ofMinutes(2), Duration.ofSeconds(10), "fhirwall:");
    try (RedisQuotaStore acl = RedisQuotaStore.connect(s, Duration.ofSeconds(5))) {
      PatientWindow w = PatientWindow.of(Duration.ofHours(1), 2);
      assertThat(done(acl.charge(new ChargeRequest("acl", List.of(w), Set.of("p1", "p2"), t0, true)))).isInstanceOf(ChargeResult.Admitted.class);
      assertThat(done(acl.charge(new ChargeRequest("acl", List.of(w), Set.of("p3"), t0, true)))).isInstanceOf(ChargeResult.Refused.class);
      assertThat(done(acl.usage("acl", List.of(w), t0))).extracting(WindowUsage::distinct).containsExactly(2);
      RateGate.Entry e = done(acl.enter("acl", new RateLimit(10, 10, 2), 1, t0));
      assertThat(e).isInstanceOf(RateGate.Entry.Entered.class);
      ((RateGate.Entry.Entered) e).ticket().exit();
      assertThat(done(acl.recordEvents("not-found", "acl", 2, Duration.ofMinutes(1), 1, t0))).isTrue();
      done(acl.lock("acl", "test", Duration.ofHours(1), t0));
      assertThat(done(acl.locks(t0))).extracting(Lock::account).contains("acl");
      assertThat(done(acl.unlock("acl"))).isTrue();
      assertThat(done(acl.sharedSecret("paging", new byte[] {7}))).isEqualTo(new byte[] {7});
      assertThat(done(acl.bind("export-job:j1", "acl", Duration.ofHours(1), t0))).isTrue();
      assertThat(done(acl.ownerOf("export-job:j1", t0))).contains("acl");
    }
    RedisQuotaStore.Settings inUrl = new RedisQuotaStore.Settings("redis://fhirwall:acl-secret@127.0.0.1:" + redis.port(), false,
        null, null, null, Duration.ofSeconds(2), Duration.ofMinutes(2), Duration.ofSeconds(10), "fhirwall:");
    try (RedisQuotaStore acl = RedisQuotaStore.connect(inUrl, Duration.ofSeconds(5))) {
      assertThat(done(acl.sharedSecret("paging", new byte[] {8}))).as("credentials in the URL").isEqualTo(new byte[] {7});
    }
    RedisQuotaStore.Settings wrong = new RedisQuotaStore.Settings(redis.url(), false, "fhirwall", "not-the-password", null,
        Duration.ofSeconds(1), Duration.ofMinutes(2), Duration.ofSeconds(10), "fhirwall:");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RedisQuotaStore.connect(wrong, Duration.ofMillis(500)))
        .hasMessageContaining("not reachable").hasMessageNotContaining("not-the-password");
  }

  /** The scripts {@code redis} ran since its statistics were last reset (EVALSHA and EVAL calls). */
  static long scriptCalls(RedisProcess redis) throws Exception {
    long calls = 0;
    for (String line : redis.bulk("INFO", "commandstats").split("\r?\n")) {
      Matcher m = Pattern.compile("^cmdstat_(evalsha|eval):calls=(\\d+),").matcher(line);
      if (m.find()) {
        calls += Long.parseLong(m.group(2));
      }
    }
    return calls;
  }

  @Test
  void aRequestOfARoleThatRefusesAtItsLimitIsAdmittedAndCheckedForAHoldInOneCall() throws Exception {
    PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 1);
    done(store.charge(new ChargeRequest("refuser", List.of(hour), Set.of("p1"), t0, true)));
    redis.command("CONFIG", "RESETSTAT");
    QuotaStore.Admission a = store.admit("refuser", new RateLimit(100, 100, 10), 1, false,
        new QuotaStore.HoldCheck(List.of(hour), Set.of("p2")), t0.plusSeconds(1));
    assertThat(done(a.entry())).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(done(a.held())).as("the hour is full and p2 is not in it")
        .hasValueSatisfying(h -> assertThat(h.full()).isEqualTo(hour));
    assertThat(scriptCalls(redis)).as("the admission and the hold check: one round trip").isEqualTo(1);
    ((RateGate.Entry.Entered) done(a.entry())).ticket().exit();
  }

  @Test
  void aBindingIsOneKeyUnderThePrefixThatExpiresOnItsOwn() throws Exception {
    done(store.bind("export-file:f1", "https://idp|warehouse", Duration.ofHours(24), t0));
    try (var c = io.lettuce.core.RedisClient.create(redis.url()); var conn = c.connect()) {
      assertThat(conn.sync().keys("*")).containsExactly("fw:owner:export-file:f1");
      assertThat(conn.sync().get("fw:owner:export-file:f1")).isEqualTo("https://idp|warehouse");
      assertThat(conn.sync().pttl("fw:owner:export-file:f1")).isPositive().isLessThanOrEqualTo(Duration.ofHours(24).toMillis());
      conn.sync().pexpire("fw:owner:export-file:f1", 1000);
      done(store.bind("export-file:f1", "https://idp|warehouse", Duration.ofHours(24), t0));
      assertThat(conn.sync().pttl("fw:owner:export-file:f1")).as("bound again by its owner: for the whole ttl from now")
          .isGreaterThan(Duration.ofHours(23).toMillis());
    }
  }

  @Test
  void writesAFailoverLostAreWrittenAgainWhenTheConnectionComesBack() throws Exception {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 10);
    done(store.charge(new ChargeRequest("replayed", List.of(w), Set.of("p1", "p2", "p3"), t0, true)));
    done(store.lock("locked-then-lost", "limit reached", Duration.ofHours(1), t0));
    // What a failover to a replica that had not received them looks like to this replica: the writes
    // are gone and its connection is cut.
    redis.command("FLUSHALL");
    redis.command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        if (done(store.usage("replayed", List.of(w), t0)).get(0).distinct() == 3
            && done(store.lockOf("locked-then-lost", t0)).isPresent()) {
          break;
        }
      } catch (java.util.concurrent.CompletionException reconnecting) {
        // commands are refused until the connection is back
      }
      assertThat(System.nanoTime()).as("the replay within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(done(store.charge(new ChargeRequest("replayed", List.of(w), Set.of("p1"), t0.plusSeconds(1), true))))
        .isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> assertThat(a.newPatients()).isZero());
  }

  @Test
  void aSlotHeldByAReplicaThatDiedIsGivenBackWhenItsLeaseEnds() {
    RateLimit one = new RateLimit(1000, 1000, 1);
    assertThat(done(store.enter("orphan", one, 1, t0))).isInstanceOf(RateGate.Entry.Entered.class);
    // never exited: the replica that admitted it is gone
    assertThat(done(store.enter("orphan", one, 1, t0.plusSeconds(119)))).isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(done(store.enter("orphan", one, 1, t0.plusSeconds(121)))).as("lease of 2 minutes over")
        .isInstanceOf(RateGate.Entry.Entered.class);
  }

  @Test
  void scriptsLostByARestartedRedisAreLoadedAgain() throws Exception {
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 10);
    done(store.charge(new ChargeRequest("a", List.of(w), Set.of("p1"), t0, true)));
    redis.command("SCRIPT", "FLUSH");
    assertThat(done(store.charge(new ChargeRequest("a", List.of(w), Set.of("p2"), t0, true))))
        .isInstanceOfSatisfying(ChargeResult.Admitted.class, a -> assertThat(a.usage().get(0).distinct()).isEqualTo(2));
    assertThat(keys()).isNotEmpty();
  }

  @Test
  void callsMadeOnAnEventLoopComeBackOnItThroughAConnectionOfItsOwn() throws Exception {
    io.netty.channel.EventLoopGroup loops = new io.netty.channel.MultiThreadIoEventLoopGroup(2,
        io.netty.channel.epoll.Epoll.isAvailable() ? io.netty.channel.epoll.EpollIoHandler.newFactory()
            : io.netty.channel.nio.NioIoHandler.newFactory());
    try (RedisQuotaStore onLoops = RedisQuotaStore.connect(settings(redis.url(), Duration.ofSeconds(2)), Duration.ofSeconds(10))) {
      onLoops.serveOn(org.fhirwall.server.LettuceLoops.of(loops));
      assertThat(clients()).as("the main connection and one per loop").isGreaterThanOrEqualTo(3 + 1);
      PatientWindow w = PatientWindow.of(Duration.ofHours(1), 2);
      int n = 0;
      for (io.netty.util.concurrent.EventExecutor loop : loops) {
        // an account of its own per loop: an account's calls that wait behind another of its
        // calls go with that one's reply, on whichever thread it comes back
        String account = "looped-" + n++;
        CompletableFuture<String> thread = new CompletableFuture<>();
        CompletableFuture<RateGate.Entry> entered = new CompletableFuture<>();
        loop.execute(() -> onLoops.enter(account, new RateLimit(100, 100, 10), 1, t0).whenComplete((e, x) -> {
          thread.complete(loop.inEventLoop() ? "the same loop" : Thread.currentThread().getName());
          if (x != null) {
            entered.completeExceptionally(x);
          } else {
            entered.complete(e);
          }
        }));
        assertThat(entered.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(RateGate.Entry.Entered.class);
        assertThat(thread.get()).isEqualTo("the same loop");
        ((RateGate.Entry.Entered) entered.get()).ticket().exit();
      }
      CompletableFuture<ChargeResult> charged = new CompletableFuture<>();
      loops.next().execute(() -> onLoops.charge(new ChargeRequest("looped", List.of(w), Set.of("p1", "p2"), t0, true))
          .whenComplete((r, x) -> charged.complete(r)));
      assertThat(charged.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(ChargeResult.Admitted.class);
      assertThat(done(store.charge(new ChargeRequest("looped", List.of(w), Set.of("p3"), t0, true))))
          .as("another replica sees what went through the loops' connections").isInstanceOf(ChargeResult.Refused.class);
    } finally {
      loops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void aReReadAdmittedFromMemoryReachesRedisBeforeTheReplicaStops() throws Exception {
    PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 5);
    try (RedisQuotaStore a = RedisQuotaStore.connect(settings(redis.url(), Duration.ofSeconds(2)), Duration.ofSeconds(10))) {
      done(a.charge(new ChargeRequest("reader", List.of(hour), Set.of("p1", "p2", "p3", "p4", "p5"), t0, true)));
      redis.command("CONFIG", "RESETSTAT");
      assertThat(done(a.charge(new ChargeRequest("reader", List.of(hour), Set.of("p1"), t0.plus(Duration.ofMinutes(50)), true))))
          .isInstanceOf(ChargeResult.Admitted.class);
      // closed at once: what waits to be written is written first
    }
    assertThat(redis.bulk("INFO", "commandstats")).contains("cmdstat_evalsha").as("no check-and-charge call: the re-read was admitted from memory")
        .doesNotContain("zmscore");
    assertThat(done(store.charge(new ChargeRequest("reader", List.of(hour), Set.of("p6", "p7", "p8", "p9"),
        t0.plus(Duration.ofMinutes(70)), true)))).isInstanceOf(ChargeResult.Admitted.class);
    assertThat(done(store.charge(new ChargeRequest("reader", List.of(hour), Set.of("p10"), t0.plus(Duration.ofMinutes(71)), true))))
        .as("p1, re-read at 50 min, is still in the hour on another replica").isInstanceOf(ChargeResult.Refused.class);
  }

  /** A replica whose forecast ({@link AdmissionForecast}) is timed by {@code nanos}: it stands still unless moved. */
  private static RedisQuotaStore timedBy(AtomicLong nanos) throws Exception {
    return RedisQuotaStore.connect(settings(redis.url(), Duration.ofSeconds(2)), Duration.ofSeconds(10), nanos::get);
  }

  @Test
  void aReadGoesToTheEprAheadOfItsAdmissionOnlyWhileTheStoreKeepsAdmittingThePrincipal() throws Exception {
    RateLimit limit = new RateLimit(1000, 1000, 10);
    AtomicLong nanos = new AtomicLong();
    try (RedisQuotaStore replica = timedBy(nanos)) {
      QuotaStore.Admission first = replica.admit("ahead", limit, 1, true, t0);
      assertThat(first.forwardNow()).as("never admitted before: waits").isFalse();
      ((RateGate.Entry.Entered) done(first.entry())).ticket().exit();
      QuotaStore.Admission read = replica.admit("ahead", limit, 1, true, t0);
      assertThat(read.forwardNow()).isTrue();
      ((RateGate.Entry.Entered) done(read.entry())).ticket().exit();
      QuotaStore.Admission write = replica.admit("ahead", limit, 1, false, t0);
      assertThat(write.forwardNow()).as("not a read").isFalse();
      // answered before the lock is set: answered after it, it would be locked and tell this replica
      // of the lock (anAdmissionAskedBeforeALockAndAnsweredAfterItIsLockedAndTheNextReadWaits)
      ((RateGate.Entry.Entered) done(write.entry())).ticket().exit();
      nanos.addAndGet(Duration.ofMillis(1001).toNanos());
      QuotaStore.Admission stale = replica.admit("ahead", limit, 1, true, t0);
      assertThat(stale.forwardNow()).as("last admitted more than a second ago: waits").isFalse();
      ((RateGate.Entry.Entered) done(stale.entry())).ticket().exit();

      done(store.lock("ahead", "limit reached", Duration.ofHours(1), t0)); // by another replica
      QuotaStore.Admission unaware = replica.admit("ahead", limit, 1, true, t0);
      assertThat(unaware.forwardNow()).as("this replica has not heard of the lock yet").isTrue();
      assertThat(done(unaware.entry())).as("the store refuses it: its answer is dropped").isInstanceOf(RateGate.Entry.Locked.class);
      QuotaStore.Admission after = replica.admit("ahead", limit, 1, true, t0);
      assertThat(after.forwardNow()).as("refused once: waits for the store from then on").isFalse();
      assertThat(done(after.entry())).isInstanceOf(RateGate.Entry.Locked.class);
    }
  }

  @Test
  void anAdmissionAskedBeforeALockAndAnsweredAfterItIsLockedAndTheNextReadWaits() throws Exception {
    RateLimit limit = new RateLimit(1000, 1000, 10);
    AtomicLong nanos = new AtomicLong();
    try (RedisQuotaStore replica = timedBy(nanos)) {
      ((RateGate.Entry.Entered) done(replica.enter("raced", limit, 1, t0))).ticket().exit();
      QuotaStore.Admission warm = replica.admit("raced", limit, 1, true, t0);
      assertThat(warm.forwardNow()).as("admitted a moment ago").isTrue();
      ((RateGate.Entry.Entered) done(warm.entry())).ticket().exit();
      // returns once no call of any account is in flight or waiting (and lets nothing linger from
      // then on): the next admission goes to Redis at once
      replica.leaveLoops();

      // Redis holds every command a while: the first admission is sent and waits for its reply, the
      // second waits in the account's lane for that reply, and the lock is sent between them.
      redis.command("CLIENT", "PAUSE", "1000", "ALL");
      CompletionStage<RateGate.Entry> inFlight = replica.enter("raced", limit, 1, t0);
      CompletionStage<RateGate.Entry> behind = replica.enter("raced", limit, 1, t0);
      CompletionStage<Lock> lock = replica.lock("raced", "limit reached", Duration.ofHours(1), t0);
      assumeThat(inFlight.toCompletableFuture().isDone()).as("the lock was sent before the first admission's reply").isFalse();

      assertThat(done(inFlight)).as("asked and answered before the lock").isInstanceOf(RateGate.Entry.Entered.class);
      assertThat(done(behind)).as("asked before the lock, answered after it").isInstanceOf(RateGate.Entry.Locked.class);
      done(lock);
      QuotaStore.Admission next = replica.admit("raced", limit, 1, true, t0);
      assertThat(next.forwardNow()).as("that answer told this replica of the lock: reads wait").isFalse();
      assertThat(done(next.entry())).isInstanceOf(RateGate.Entry.Locked.class);
      assertThat(done(store.enter("raced", limit, 1, t0))).as("and every other replica's").isInstanceOf(RateGate.Entry.Locked.class);
      ((RateGate.Entry.Entered) done(inFlight)).ticket().exit();
    }
  }

  @Test
  void aStoreClosedAfterFhirwallStoppedItsLoopsClosesQuietlyAndWritesWhatWaits() throws Exception {
    io.netty.channel.EventLoopGroup loops = new io.netty.channel.MultiThreadIoEventLoopGroup(2,
        io.netty.channel.epoll.Epoll.isAvailable() ? io.netty.channel.epoll.EpollIoHandler.newFactory()
            : io.netty.channel.nio.NioIoHandler.newFactory());
    PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 5);
    RedisQuotaStore onLoops = RedisQuotaStore.connect(settings(redis.url(), Duration.ofSeconds(2)), Duration.ofSeconds(10));
    onLoops.serveOn(org.fhirwall.server.LettuceLoops.of(loops));
    done(onLoops.charge(new ChargeRequest("stopping", List.of(hour), Set.of("p1", "p2", "p3", "p4", "p5"), t0, true)));
    done(onLoops.charge(new ChargeRequest("stopping", List.of(hour), Set.of("p1"), t0.plus(Duration.ofMinutes(50)), true)));
    loops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    onLoops.close(); // a store closed after its loops stopped (a server that did not leave them first)
    assertThat(done(store.charge(new ChargeRequest("stopping", List.of(hour), Set.of("p6", "p7", "p8", "p9"),
        t0.plus(Duration.ofMinutes(70)), true)))).isInstanceOf(ChargeResult.Admitted.class);
    assertThat(done(store.charge(new ChargeRequest("stopping", List.of(hour), Set.of("p10"), t0.plus(Duration.ofMinutes(71)), true))))
        .as("p1's re-read, gathered when the store closed, was written").isInstanceOf(ChargeResult.Refused.class);
  }

  private long clients() throws Exception {
    return redis.bulk("CLIENT", "LIST").split("id=", -1).length - 1;
  }
}
