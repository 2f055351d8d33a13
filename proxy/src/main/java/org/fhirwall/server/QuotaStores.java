package org.fhirwall.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.quota.FallbackQuotaStore;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.quota.RedisQuotaStore;
import org.fhirwall.quota.StateFile;

/** The quota stage's store as the deployment file asks for it, with its metrics. */
final class QuotaStores {
  private QuotaStores() {}

  /**
   * The quota stage's store: this process's (kept in {@code quota.state-dir} when set), or Redis
   * (waiting for it at start up to {@code quota.redis.start-wait}), with this replica's share of the
   * limits as fallback when the deployment chose {@code local-fallback}.
   */
  static QuotaStore quotaStore(DeploymentConfig config, Fhirwall.Options options, ExecutorService background,
      ScheduledExecutorService ticks) throws InterruptedException {
    DeploymentConfig.Quota q = config.quota();
    DeploymentConfig.Redis r = q.redis();
    if (r == null) {
      LocalQuotaStore local = new LocalQuotaStore(q.maxAccounts(), background,
          q.stateDir() == null ? null : new StateFile(q.stateDir()));
      if (q.stateDir() != null) {
        ticks.scheduleWithFixedDelay(local::persist, 5, 5, TimeUnit.SECONDS);
      }
      return local;
    }
    // A slot of a request whose replica died is held until its lease ends: the longest a request may take.
    Duration lease = config.upstream().responseTimeout().plus(config.limits().requestTimeout()).plusSeconds(30);
    RedisQuotaStore redis = RedisQuotaStore.connect(new RedisQuotaStore.Settings(r.url(), r.cluster(), r.username(),
        r.password(), r.caFile(), r.timeout(), lease, r.replay(), r.keyPrefix()), r.startWait());
    if (!q.localFallback()) {
      return redis;
    }
    FallbackQuotaStore fallback = new FallbackQuotaStore(redis, q.replicas(), q.maxAccounts(), background);
    ticks.scheduleWithFixedDelay(() -> fallback.refreshLocks(options.clock().instant()), 0, 3, TimeUnit.SECONDS);
    return fallback;
  }

  /**
   * The quota store's metrics: whether this replica enforces its share of the limits alone because
   * Redis does not answer, and how many charges it made so.
   */
  static void bindQuotaMetrics(QuotaStore quota, MeterRegistry registry) {
    if (quota instanceof FallbackQuotaStore fallback) {
      Gauge.builder("fhirwall.quota.store.fallback", fallback, f -> f.degraded() ? 1 : 0)
          .description("1 while Redis does not answer and this replica enforces 1/replicas of every limit alone")
          .register(registry);
      FunctionCounter.builder("fhirwall.quota.fallback.charges", fallback, FallbackQuotaStore::fallbackCharges)
          .description("Responses charged by this replica alone while Redis did not answer")
          .register(registry);
    }
  }
}
