package org.fhirwall.quota;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The quota store contract against a real Redis Cluster of three primaries (processes of this
 * test's own), as an ACL user limited to fhirwall's keys: every script touches the keys of one
 * principal only, all in its hash slot, and the cluster client routes it there.
 */
class RedisClusterQuotaStoreTest extends QuotaStoreContract {
  static List<RedisProcess> nodes;

  @BeforeAll
  static void startCluster() throws Exception {
    nodes = RedisProcess.cluster(3);
    for (RedisProcess n : nodes) {
      // the README's ACL line, with what the cluster client needs besides
      n.command("ACL", "SETUSER", "fhirwall", "on", ">cluster-secret", "resetkeys", "~fw:*", "resetchannels", "-@all", "+@read",
          "+@write", "+@scripting", "+@connection", "-@dangerous", "+cluster|nodes", "+cluster|myid", "+cluster|shards", "+info");
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (nodes != null) {
      for (RedisProcess n : nodes) {
        n.close();
      }
    }
  }

  @Override
  QuotaStore newStore() throws Exception {
    for (RedisProcess n : nodes) {
      n.command("FLUSHALL");
    }
    return RedisQuotaStore.connect(new RedisQuotaStore.Settings(nodes.get(0).url(), true, "fhirwall", "cluster-secret", null,
        Duration.ofSeconds(2),
        Duration.ofMinutes(2), Duration.ofSeconds(10), "fw:"), Duration.ofSeconds(10));
  }
}
