package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Redis faults are a policy choice: one replica fails closed ({@code on-store-failure: deny}), the
 * other enforces its share of the limits alone ({@code local-fallback}, two replicas: 12 of 25).
 * Redis is killed by its process id, or made to sleep; every request gets an answer within the
 * client's timeout, never a 500, and service resumes when Redis does, without restarting fhirwall.
 */
@ExtendWith(LeakWatch.class)
class StoreFailureIT {
  static final int LIMIT = 25;
  static final int SHARE = LIMIT / 2;
  static Replicas cluster;
  static Replicas.Replica deny;
  static Replicas.Replica fallback;

  @BeforeAll
  static void start() throws Exception {
    // Persistence on, so that a killed Redis comes back with its data (as the README asks of production).
    cluster = Replicas.start(1000, "--appendonly", "yes", "--appendfsync", "always");
    deny = cluster.shared("deny", "deny", "1s");
    fallback = cluster.shared("fallback", "local-fallback", "1s");
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static int readyStatus(Replicas.Replica r) {
    try {
      return cluster.ready(r).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static void assertStoreUnavailable(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.body()).contains("OperationOutcome").contains("Patient limits cannot be checked");
  }

  private static int zcard(String key) throws Exception {
    String reply = cluster.redis.command("ZCARD", key);
    return Integer.parseInt(reply.substring(1));
  }

  @Test
  void redisKilledMidRunEachPolicyBehavesAsDocumentedAndServiceResumesWithoutRestart() throws Exception {
    List<String> ids = cluster.store.samplePatientIds(200, 17);
    String reader = cluster.token("reader", "counted");
    assertThat(cluster.get(deny, "Patient?_id=" + String.join(",", ids.subList(0, 5)), reader).statusCode()).isEqualTo(200);
    // An account locked before the outage, seen locked by the fallback replica too.
    String locked = cluster.token("locked-before", "limited");
    assertThat(cluster.get(deny, "Patient?_id=" + String.join(",", ids.subList(100, 125)), locked).statusCode()).isEqualTo(200);
    assertThat(cluster.get(deny, "Patient/" + ids.get(130), locked).statusCode()).isEqualTo(429);
    assertThat(cluster.get(fallback, "Patient/" + ids.get(100), locked).statusCode()).isEqualTo(429);

    assertThat(cluster.ready(deny).statusCode()).as(cluster.ready(deny).body()).isEqualTo(200);
    cluster.redis.kill();
    Replicas.await("the deny replica unready (the platform stops sending it traffic)", Duration.ofSeconds(15),
        () -> readyStatus(deny) == 503);
    assertThat(cluster.ready(deny).body()).contains("quota-store");
    assertThat(readyStatus(fallback)).as("the fallback replica serves on: ready").isEqualTo(200);

    for (int i = 0; i < 5; i++) {
      assertStoreUnavailable(cluster.get(deny, "Patient/" + ids.get(i), reader));
    }
    String outage = cluster.token("during-outage", "counted");
    Set<String> shown = new LinkedHashSet<>();
    int refused = 0;
    for (int i = 20; i < 20 + SHARE + 3; i++) {
      HttpResponse<String> r = cluster.get(fallback, "Patient/" + ids.get(i), outage);
      assertThat(r.statusCode()).as(r.body()).isIn(200, 429);
      if (r.statusCode() == 200) {
        shown.addAll(Replicas.patientsIn(r.body()));
      } else {
        refused++;
      }
    }
    assertThat(shown).as("the fallback replica enforces its share of the limit alone").hasSize(SHARE);
    assertThat(refused).isEqualTo(3);
    assertThat(cluster.get(fallback, "Patient/" + ids.get(100), locked).statusCode())
        .as("a lock in force before the outage still holds").isEqualTo(429);
    Replicas.await("the fallback noted in the audit record", Duration.ofSeconds(10), () -> {
      try {
        return Files.readString(fallback.audit()).contains("quota store unreachable: charged by this replica alone");
      } catch (java.io.IOException e) {
        return false;
      }
    });

    assertThat(cluster.metrics(fallback)).contains("fhirwall_quota_store_fallback 1.0")
        .containsPattern("fhirwall_quota_fallback_charges_total [1-9]");

    cluster.redis.restart();
    Replicas.await("the deny replica ready again", Duration.ofSeconds(20), () -> readyStatus(deny) == 200);

    Replicas.await("the deny replica serving again", Duration.ofSeconds(20), () -> {
      try {
        return cluster.get(deny, "Patient/" + ids.get(6), reader).statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    });
    String key = "fhirwall:{" + cluster.account("during-outage") + "}:w:3600000";
    Replicas.await("the fallback's charges written into Redis", Duration.ofSeconds(20), () -> {
      try {
        return zcard(key) == SHARE;
      } catch (Exception e) {
        return false;
      }
    });
    List<String> fresh = ids.subList(60, 60 + LIMIT - SHARE + 1);
    assertThat(cluster.get(deny, "Patient?_id=" + String.join(",", fresh.subList(0, LIMIT - SHARE)), outage).statusCode())
        .as("the rest of the limit").isEqualTo(200);
    assertThat(cluster.get(deny, "Patient/" + fresh.get(LIMIT - SHARE), outage).statusCode())
        .as("what was shown during the outage counts in the shared window: it is full").isEqualTo(429);
    assertThat(cluster.get(fallback, "Patient/" + ids.get(61), outage).statusCode()).as("the fallback replica is back on Redis")
        .isEqualTo(200);
    assertThat(cluster.get(fallback, "Patient/" + ids.get(150), outage).statusCode()).isEqualTo(429);
    assertThat(cluster.metrics(fallback)).contains("fhirwall_quota_store_fallback 0.0");
  }

  @Test
  void redisSlowerThanItsTimeoutLeadsIntoThePolicyNotIntoAHang() throws Exception {
    List<String> ids = cluster.store.samplePatientIds(300, 23);
    String token = cluster.token("slow", "counted");
    assertThat(cluster.get(deny, "Patient/" + ids.get(250), token).statusCode()).isEqualTo(200);
    Thread sleeper = cluster.redis.sleep(8);
    // DEBUG SLEEP holds Redis for 8 s; the replicas' calls time out after 1 s. A request that
    // waited for Redis would be answered 200 once it wakes, or hit the client's 10 s timeout.
    Replicas.await("the deny replica refusing", Duration.ofSeconds(5), () -> {
      try {
        return cluster.get(deny, "Patient/" + ids.get(251), token).statusCode() == 503;
      } catch (Exception e) {
        return false;
      }
    });
    assertStoreUnavailable(cluster.get(deny, "Patient/" + ids.get(252), token));
    HttpResponse<String> served = cluster.get(fallback, "Patient/" + ids.get(253), cluster.token("slow-fallback", "counted"));
    assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
    sleeper.join(Duration.ofSeconds(20).toMillis());
    Replicas.await("service resumed after Redis woke up", Duration.ofSeconds(20), () -> {
      try {
        return cluster.get(deny, "Patient/" + ids.get(254), token).statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    });
  }
}
