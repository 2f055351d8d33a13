package org.fhirwall.upstream;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the EPR client does with a call still under way when fhirwall stops (a read sent ahead of an
 * admission that refused it, or a request past the shutdown grace): it ends as a failure and gives
 * its buffers back before the event loops stop. (A replica stopped while an EPR's chunked answer
 * was half read kept that answer's buffers: CI failed on the leak report.)
 */
class UpstreamClientShutdownTest {
  private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private ServerSocket epr;
  private Socket accepted;

  @AfterEach
  void stop() throws Exception {
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    if (accepted != null) {
      accepted.close();
    }
    if (epr != null) {
      epr.close();
    }
  }

  @Test
  void aCallWhoseAnswerIsHalfReadWhenTheClientClosesEndsAsAFailureAndGivesItsBufferBack() throws Exception {
    CountDownLatch halfSent = new CountDownLatch(1);
    epr = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    Thread server = new Thread(() -> answerHalf(halfSent), "stalling-epr");
    server.setDaemon(true);
    server.start();
    UpstreamSettings settings = new UpstreamSettings(URI.create("http://127.0.0.1:" + epr.getLocalPort() + "/fhir"),
        Duration.ofSeconds(5), Duration.ofMinutes(5), 4, 1 << 20, Map.of(), null, null, null);
    UpstreamClient client = new UpstreamClient(settings, loops, NioSocketChannel.class, io.netty.buffer.ByteBufAllocator.DEFAULT,
        CircuitBreaker.ofDefaults("epr"),
        Bulkhead.ofDefaults("epr"));
    EventLoop loop = loops.next();
    Future<UpstreamResult> answer = loop.submit(() -> client.send(loop, new UpstreamRequest("GET", "Patient/p1",
        List.of(), new byte[0]))).get(5, TimeUnit.SECONDS);
    assertThat(halfSent.await(10, TimeUnit.SECONDS)).as("the EPR sent half its answer").isTrue();
    // the first chunk has reached the call once its body holds bytes
    for (int i = 0; i < 500 && bodyBytes(client, loop) == 0; i++) {
      Thread.sleep(10);
    }
    assertThat(bodyBytes(client, loop)).as("half the answer was read").isPositive();
    assertThat(answer.isDone()).isFalse();

    client.close();

    assertThat(answer.await(10, TimeUnit.SECONDS)).as("the call ended with the client").isTrue();
    assertThat(answer.getNow()).isInstanceOfSatisfying(UpstreamResult.Failure.class,
        f -> assertThat(f.detail()).contains("shutting down"));
    assertThat(loop.submit(() -> client.pool(loop).underWay()).get(5, TimeUnit.SECONDS)).as("no call left under way").isZero();
  }

  private static long bodyBytes(UpstreamClient client, EventLoop loop) throws Exception {
    return loop.submit(() -> client.pool(loop).bytesUnderWay()).get(5, TimeUnit.SECONDS);
  }

  /** Reads one request head, answers a chunked 200 with its first chunk only, and keeps the connection open. */
  private void answerHalf(CountDownLatch halfSent) {
    try {
      accepted = epr.accept();
      InputStream in = accepted.getInputStream();
      int matched = 0;
      byte[] end = "\r\n\r\n".getBytes(US_ASCII);
      while (matched < end.length) {
        int b = in.read();
        if (b < 0) {
          return;
        }
        matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
      }
      OutputStream out = accepted.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "11\r\n{\"resourceType\":\"\r\n").getBytes(US_ASCII));
      out.flush();
      halfSent.countDown();
    } catch (Exception e) {
      // the test fails on the latch
    }
  }
}
