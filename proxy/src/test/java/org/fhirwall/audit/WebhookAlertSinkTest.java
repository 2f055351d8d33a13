package org.fhirwall.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Alerts reach a real HTTP receiver signed, and are delivered again after the receiver failed. */
class WebhookAlertSinkTest {
  static final byte[] SECRET = "shared-secret-of-the-siem-0123456789".getBytes(UTF_8);
  final List<String[]> received = new CopyOnWriteArrayList<>();
  final AtomicInteger failFirst = new AtomicInteger();
  HttpServer receiver;

  @AfterEach
  void stop() {
    if (receiver != null) {
      receiver.stop(0);
    }
  }

  URI start() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    receiver.createContext("/alerts", exchange -> {
      try (exchange) {
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (failFirst.getAndDecrement() > 0) {
          exchange.sendResponseHeaders(503, -1);
          return;
        }
        received.add(new String[] {new String(body, UTF_8), exchange.getRequestHeaders().getFirst("X-Fhirwall-Timestamp"),
            exchange.getRequestHeaders().getFirst("X-Fhirwall-Signature")});
        exchange.sendResponseHeaders(204, -1);
      }
    });
    receiver.setExecutor(Executors.newSingleThreadExecutor());
    receiver.start();
    return URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/alerts");
  }

  static Alert alert() {
    return new Alert(Instant.parse("2026-12-06T10:00:00Z"), "account-locked", "https://idp|mallory", "mallory", "physician",
        "the 1h limit of 40 distinct patients reached", Instant.parse("2026-12-07T10:00:00Z"), "req-1");
  }

  @Test
  void anAlertIsSignedAndRetriedUntilTheReceiverTakesIt() throws Exception {
    URI webhook = start();
    failFirst.set(2);
    WebhookAlertSink sink = new WebhookAlertSink(new WebhookAlertSink.Delivery(webhook, SECRET, 5, Duration.ofMillis(20)),
        HttpClient.newHttpClient(), Executors.newSingleThreadExecutor(), Clock.systemUTC());
    sink.alert(alert());
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    // the receiver has the alert before the sender has read its answer: wait for both
    while ((received.isEmpty() || sink.delivered() == 0) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(received).hasSize(1);
    String[] r = received.get(0);
    assertThat(r[0]).contains("\"event\":\"account-locked\"").contains("\"locked_until\":\"2026-12-07T10:00:00Z\"");
    assertThat(r[2]).isEqualTo("sha256=" + WebhookAlertSink.sign(SECRET, r[1], r[0].getBytes(UTF_8)));
    assertThat(WebhookAlertSink.sign("another-key".getBytes(UTF_8), r[1], r[0].getBytes(UTF_8))).isNotEqualTo(r[2].substring(7));
    assertThat(sink.delivered()).isEqualTo(1);
    assertThat(sink.failed()).isZero();
  }

  @Test
  void aReceiverThatNeverAnswersIsGivenUpOnAndCounted() throws Exception {
    URI webhook = start();
    failFirst.set(100);
    WebhookAlertSink sink = new WebhookAlertSink(new WebhookAlertSink.Delivery(webhook, null, 2, Duration.ofMillis(10)),
        HttpClient.newHttpClient(), Executors.newSingleThreadExecutor(), Clock.systemUTC());
    sink.alert(alert());
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (sink.failed() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(sink.failed()).isEqualTo(1);
    assertThat(failFirst.get()).as("three attempts: the first and two retries").isEqualTo(97);
    assertThat(received).isEmpty();
  }
}
