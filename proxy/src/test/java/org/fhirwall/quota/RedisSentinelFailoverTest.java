package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Redis behind Sentinel (processes of this test's own: a primary, its replica, one sentinel): the
 * store finds the primary through the sentinel, and when the primary is killed by its process id
 * and the replica promoted, it follows without a restart and has lost neither window nor lock.
 */
class RedisSentinelFailoverTest {
  RedisProcess primary;
  RedisProcess replica;
  RedisProcess sentinel;

  @AfterEach
  void stop() throws Exception {
    for (RedisProcess r : new RedisProcess[] {sentinel, replica, primary}) {
      if (r != null) {
        r.close();
      }
    }
  }

  static <T> T done(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void theStoreFollowsAFailoverAndForgetsNothing() throws Exception {
    primary = RedisProcess.start();
    replica = RedisProcess.start("--replicaof", "127.0.0.1", Integer.toString(primary.port()));
    await(() -> replica.bulk("INFO", "replication").contains("master_link_status:up"));
    sentinel = RedisProcess.sentinel(primary.port());
    await(() -> sentinel.bulk("SENTINEL", "REPLICAS", "mymaster").contains(Integer.toString(replica.port()))
        || sentinel.bulk("INFO", "sentinel").contains("slaves=1"));
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    PatientWindow w = PatientWindow.of(Duration.ofHours(1), 5);
    RedisQuotaStore.Settings s = new RedisQuotaStore.Settings("redis-sentinel://127.0.0.1:" + sentinel.port() + "#mymaster",
        false, null, null, null, Duration.ofSeconds(1), Duration.ofMinutes(2), Duration.ofSeconds(30), "fw:");
    try (RedisQuotaStore store = RedisQuotaStore.connect(s, Duration.ofSeconds(10))) {
      done(store.charge(new ChargeRequest("acct", List.of(w), Set.of("p1", "p2", "p3"), t0, true)));
      done(store.lock("mallory", "limit reached", Duration.ofHours(1), t0));
      await(() -> replica.bulk("INFO", "replication").contains("master_repl_offset")
          && primary.bulk("INFO", "replication").contains("lag=0"));

      primary.kill();

      await(() -> {
        try {
          return done(store.usage("acct", List.of(w), t0)).get(0).distinct() == 3
              && done(store.charge(new ChargeRequest("acct", List.of(w), Set.of("p4"), t0.plusSeconds(1), true)))
                  instanceof ChargeResult.Admitted;
        } catch (CompletionException notYet) {
          return false;
        }
      });
      assertThat(replica.bulk("INFO", "replication")).as("the replica was promoted").contains("role:master");
      assertThat(done(store.lockOf("mallory", t0.plusSeconds(2)))).isPresent();
      assertThat(done(store.charge(new ChargeRequest("acct", List.of(w), Set.of("p5", "p6"), t0.plusSeconds(2), true))))
          .as("the window kept its four patients across the failover").isInstanceOf(ChargeResult.Refused.class);
    }
  }

  interface Condition {
    boolean holds() throws Exception;
  }

  private static void await(Condition c) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!c.holds()) {
      assertThat(System.nanoTime()).as("waited 30 s").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
