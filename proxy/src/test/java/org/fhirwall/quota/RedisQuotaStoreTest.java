package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
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
}
