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
import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lettuce client, its resources and the one connection of a {@link RedisQuotaStore}: standalone,
 * Sentinel or Cluster, TLS with an optional CA file, an ACL user; every call with the settings'
 * timeout, and reconnection with a short exponential back-off. Lettuce's per-command latency
 * histograms are off (fhirwall's own metrics time the requests; recording each call cost the
 * event loop a map lookup and a histogram update).
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
    RedisURI uri = uri(s);
    ClientResources resources = ClientResources.builder()
        .ioThreadPoolSize(2)
        .computationThreadPoolSize(1)
        .commandLatencyRecorder(CommandLatencyRecorder.disabled())
        .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .build();
    SocketOptions socket = socketOptions(s);
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
              .sslOptions(sslOptions(s))
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
          c.setOptions(standaloneOptions(s));
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

  /**
   * A connection of its own whose socket is served by {@code thread}, one of fhirwall's event loops:
   * a call made on that loop goes out and its reply comes back on the same thread, with no hand-off
   * to Lettuce's threads and back (each hand-off wakes a sleeping thread: on a loaded 2-core host
   * that, not Redis, was most of a call's time). Standalone and Sentinel only; blocks the calling
   * thread (never the loop) while it connects.
   */
  static LoopConnection openOn(RedisQuotaStore.Settings s, ClientThread thread, ClientResources shared) {
    ClientResources resources = ClientResources.builder()
        .eventLoopGroupProvider(thread.loop())
        .eventExecutorGroup(shared.eventExecutorGroup())
        .timer(shared.timer())
        .commandLatencyRecorder(CommandLatencyRecorder.disabled())
        .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .build();
    RedisClient c = RedisClient.create(resources, uri(s));
    c.setOptions(standaloneOptions(s));
    try {
      var sc = c.connect();
      return new LoopConnection(thread, c, resources, sc, sc.async());
    } catch (RuntimeException e) {
      c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      resources.shutdown(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** A connection served by one of fhirwall's event loops (see {@link #openOn}). */
  record LoopConnection(ClientThread thread, RedisClient client, ClientResources resources,
      StatefulConnection<String, String> connection, RedisClusterAsyncCommands<String, String> commands) {
    /**
     * Closes, normally while the loop still runs ({@code leaveLoops}, before the server stops its
     * loops); when the loop is already gone, its channel went with it.
     */
    void close() {
      try {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      } catch (RuntimeException loopGone) {
        LOG.debug("quota store: a loop's connection closed with its loop: {}", loopGone.toString());
      } finally {
        resources.shutdown(0, 2, TimeUnit.SECONDS);
      }
    }
  }

  private static RedisURI uri(RedisQuotaStore.Settings s) {
    RedisURI uri = RedisURI.create(s.url());
    if (s.password() != null) {
      uri.setAuthentication(s.username() != null ? s.username() : "default", s.password().toCharArray());
    } else if (s.username() != null && !s.url().contains("@")) {
      throw new IllegalArgumentException("quota.redis.username without a password (expected: quota.redis.password-file)");
    }
    uri.setTimeout(s.timeout());
    return uri;
  }

  private static ClientOptions standaloneOptions(RedisQuotaStore.Settings s) {
    return ClientOptions.builder()
        .timeoutOptions(TimeoutOptions.enabled(s.timeout()))
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .socketOptions(socketOptions(s))
        .sslOptions(sslOptions(s))
        .build();
  }

  private static SocketOptions socketOptions(RedisQuotaStore.Settings s) {
    return SocketOptions.builder().connectTimeout(s.timeout().multipliedBy(4)).keepAlive(true).build();
  }

  private static SslOptions sslOptions(RedisQuotaStore.Settings s) {
    SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
    if (s.caFile() != null) {
      ssl.trustManager(s.caFile().toFile());
    }
    return ssl.build();
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
