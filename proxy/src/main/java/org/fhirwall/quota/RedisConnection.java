package org.fhirwall.quota;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lettuce client, its resources and the one connection of a {@link RedisQuotaStore}: standalone,
 * Sentinel or Cluster, TLS with an optional CA file, an ACL user; every call with the settings'
 * timeout, and reconnection with a short exponential back-off.
 */
record RedisConnection(AbstractRedisClient client, ClientResources resources, StatefulConnection<String, String> connection,
    RedisClusterAsyncCommands<String, String> commands) {
  // Logged under the store's name, as operators know it.
  private static final Logger LOG = LoggerFactory.getLogger(RedisQuotaStore.class);

  /**
   * Connects (blocking the calling thread, never an event loop, for at most {@code startWait});
   * afterwards the connection is re-established on its own whenever it drops.
   *
   * @throws IllegalStateException when Redis could not be reached within {@code startWait}
   */
  static RedisConnection open(RedisQuotaStore.Settings s, Duration startWait) throws InterruptedException {
    RedisURI uri = RedisURI.create(s.url());
    if (s.password() != null) {
      uri.setAuthentication(s.username() != null ? s.username() : "default", s.password().toCharArray());
    } else if (s.username() != null && !s.url().contains("@")) {
      throw new IllegalArgumentException("quota.redis.username without a password (expected: quota.redis.password-file)");
    }
    uri.setTimeout(s.timeout());
    ClientResources resources = ClientResources.builder()
        .ioThreadPoolSize(2)
        .computationThreadPoolSize(1)
        .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .build();
    SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
    if (s.caFile() != null) {
      ssl.trustManager(s.caFile().toFile());
    }
    SocketOptions socket = SocketOptions.builder().connectTimeout(s.timeout().multipliedBy(4)).keepAlive(true).build();
    long deadline = System.nanoTime() + startWait.toNanos();
    RuntimeException last = null;
    while (true) {
      AbstractRedisClient client = null;
      try {
        StatefulConnection<String, String> connection;
        RedisClusterAsyncCommands<String, String> commands;
        if (s.cluster()) {
          RedisClusterClient c = RedisClusterClient.create(resources, uri);
          client = c;
          // The cluster client connects to each node on first use: commands wait for that (bounded
          // by the timeout and the queue) instead of being rejected while a node's link comes up.
          c.setOptions(ClusterClientOptions.builder()
              .timeoutOptions(TimeoutOptions.enabled(s.timeout()))
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
              .requestQueueSize(100_000)
              .socketOptions(socket)
              .sslOptions(ssl.build())
              .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                  .enableAllAdaptiveRefreshTriggers()
                  .enablePeriodicRefresh(Duration.ofSeconds(30))
                  .build())
              .build());
          var cc = c.connect();
          connection = cc;
          commands = cc.async();
        } else {
          RedisClient c = RedisClient.create(resources, uri);
          client = c;
          c.setOptions(ClientOptions.builder()
              .timeoutOptions(TimeoutOptions.enabled(s.timeout()))
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
              .socketOptions(socket)
              .sslOptions(ssl.build())
              .build());
          var sc = c.connect();
          connection = sc;
          commands = sc.async();
        }
        return new RedisConnection(client, resources, connection, commands);
      } catch (RuntimeException e) {
        last = e;
        if (client != null) {
          client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        if (System.nanoTime() > deadline) {
          resources.shutdown(0, 1, TimeUnit.SECONDS);
          throw new IllegalStateException("quota.redis.url " + redacted(s.url()) + ": Redis not reachable within "
              + startWait + " (" + e.getMessage() + ")", e);
        }
        LOG.warn("quota store: Redis at {} not reachable yet ({}); retrying", redacted(s.url()), e.getMessage());
        Thread.sleep(250);
      }
    }
  }

  /** The URL without its password, for logs and errors. */
  static String redacted(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  void close() {
    connection.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
