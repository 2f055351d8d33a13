package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.fhirwall.server.LettuceLoops;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Stopping a replica whose event loops carry connections to Redis of their own: the server moves the
 * store off its loops ({@link QuotaStore#leaveLoops}) before it stops them, so each connection's
 * channel is unregistered by a loop that still runs and gives its buffers back. (CI once failed on
 * the leak report of Lettuce's read buffer of a loop connection whose loop had stopped first.)
 */
class LoopConnectionShutdownTest {
  static RedisProcess redis;

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

  @Test
  void aStoreThatLeavesTheLoopsBeforeTheyStopLeaksNoBufferAndWritesWhatWaits() throws Exception {
    assertThat(ResourceLeakDetector.getLevel()).as("the build runs tests with paranoid leak detection")
        .isEqualTo(ResourceLeakDetector.Level.PARANOID);
    Logger detector = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
    ListAppender<ILoggingEvent> reports = new ListAppender<>();
    reports.start();
    detector.addAppender(reports);
    try {
      for (int replica = 0; replica < 3; replica++) {
        serveOnLoopsAndStop("stopping-" + replica);
      }
      List<String> leaks = leaksReported(reports);
      assertThat(leaks).as("Netty's leak reports").isEmpty();
    } finally {
      detector.detachAppender(reports);
    }
    RedisQuotaStore after = RedisQuotaStore.connect(RedisQuotaStoreTest.settings(redis.url(), Duration.ofSeconds(2)),
        Duration.ofSeconds(10));
    try {
      Instant t0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
      PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 5);
      assertThat(QuotaStoreContract.done(after.charge(new ChargeRequest("stopping-0", List.of(hour), Set.of("p6", "p7", "p8", "p9"),
          t0.plus(Duration.ofMinutes(70)), true)))).isInstanceOf(ChargeResult.Admitted.class);
      assertThat(QuotaStoreContract.done(after.charge(new ChargeRequest("stopping-0", List.of(hour), Set.of("p10"),
          t0.plus(Duration.ofMinutes(71)), true))))
          .as("p1's re-read, gathered on a loop when the server stopped, was written").isInstanceOf(ChargeResult.Refused.class);
    } finally {
      after.close();
    }
  }

  /** What {@code Fhirwall.close} does: the server leaves the store's loops, stops them, then the store closes. */
  private static void serveOnLoopsAndStop(String account) throws Exception {
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2,
        Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Instant t0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    PatientWindow hour = PatientWindow.of(Duration.ofHours(1), 5);
    RedisQuotaStore onLoops = RedisQuotaStore.connect(RedisQuotaStoreTest.settings(redis.url(), Duration.ofSeconds(2)),
        Duration.ofSeconds(10));
    onLoops.serveOn(LettuceLoops.of(loops));
    for (io.netty.util.concurrent.EventExecutor loop : loops) {
      // calls made on each loop, through its own connection
      QuotaStoreContract.done(loop.submit(() -> onLoops.charge(new ChargeRequest(account, List.of(hour),
          Set.of("p1", "p2", "p3", "p4", "p5"), t0, true))).get(10, TimeUnit.SECONDS));
      QuotaStoreContract.done(loop.submit(() -> onLoops.charge(new ChargeRequest(account, List.of(hour),
          Set.of("p1"), t0.plus(Duration.ofMinutes(50)), true))).get(10, TimeUnit.SECONDS));
    }
    onLoops.leaveLoops();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    onLoops.close();
  }

  /** Netty reports a leak only once the buffer is collected and a later allocation is tracked. */
  private static List<String> leaksReported(ListAppender<ILoggingEvent> reports) throws InterruptedException {
    for (int round = 0; round < 5; round++) {
      System.gc();
      Thread.sleep(100);
      for (int i = 0; i < 500; i++) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.release();
      }
    }
    return reports.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("LEAK")).toList();
  }
}
