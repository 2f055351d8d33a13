package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every alert at warn level on the {@code fhirwall.alert} logger and, when a webhook is
 * configured, POSTs it there as JSON, signed and retried:
 *
 * <ul>
 *   <li>with a shared secret, {@code X-Fhirwall-Signature: sha256=<hex>} is the HMAC-SHA256 of
 *       {@code <timestamp>.<body>}, with {@code X-Fhirwall-Timestamp: <epoch seconds>}, so the
 *       receiver can check who sent it and refuse a replay;
 *   <li>an answer other than 2xx, or no answer, is retried with exponential backoff
 *       ({@code retries} times, from {@code firstRetry}), then given up on at error level;
 *   <li>deliveries and failures are counted ({@link #delivered()}, {@link #failed()}).
 * </ul>
 *
 * <p>Never blocks the caller; the alert is in the audit trail either way.
 */
public final class WebhookAlertSink implements AlertSink {
  private static final Logger ALERTS = LoggerFactory.getLogger("fhirwall.alert");
  private static final JsonFactory JSON = new JsonFactory();

  /**
   * Where and how alerts are delivered.
   *
   * @param secret the HMAC key shared with the receiver, null to send unsigned
   */
  public record Delivery(@Nullable URI webhook, byte @Nullable [] secret, int retries, Duration firstRetry) {
    public static final Delivery NONE = new Delivery(null, null, 0, Duration.ofSeconds(1));

    public Delivery {
      requireNonNull(firstRetry, "firstRetry");
      if (retries < 0) {
        throw new IllegalArgumentException("retries: " + retries + " (expected: >= 0)");
      }
    }
  }

  private final Delivery delivery;
  private final HttpClient http;
  private final Executor background;
  private final Clock clock;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  public WebhookAlertSink(Delivery delivery, HttpClient http, Executor background, Clock clock) {
    this.delivery = requireNonNull(delivery, "delivery");
    this.http = requireNonNull(http, "http");
    this.background = requireNonNull(background, "background");
    this.clock = requireNonNull(clock, "clock");
  }

  @Override
  public void alert(Alert alert) {
    ALERTS.warn("{}: {} ({}) role={} {}{}", alert.event(), alert.displayName(), alert.account(), alert.role(),
        alert.detail(), alert.lockedUntil() != null ? " locked until " + alert.lockedUntil() : "");
    if (delivery.webhook() == null) {
      return;
    }
    send(json(alert), 0);
  }

  /** Alerts the webhook took (2xx). */
  public long delivered() {
    return delivered.get();
  }

  /** Alerts given up on after every retry. */
  public long failed() {
    return failed.get();
  }

  private void send(byte[] body, int attempt) {
    URI webhook = requireNonNull(delivery.webhook(), "webhook");
    HttpRequest.Builder req = HttpRequest.newBuilder(webhook)
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (delivery.secret() != null) {
      String timestamp = Long.toString(clock.instant().getEpochSecond());
      req.header("X-Fhirwall-Timestamp", timestamp).header("X-Fhirwall-Signature", "sha256=" + sign(delivery.secret(), timestamp, body));
    }
    http.sendAsync(req.build(), HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
      if (e == null && r.statusCode() >= 200 && r.statusCode() < 300) {
        delivered.incrementAndGet();
        return;
      }
      String why = e != null ? "unreachable: " + e : "answered " + r.statusCode();
      if (attempt >= delivery.retries()) {
        failed.incrementAndGet();
        ALERTS.error("alert webhook {} {}; gave up after {} attempts (the alert is in the audit trail)", webhook, why,
            attempt + 1);
        return;
      }
      long delayMillis = delivery.firstRetry().toMillis() << Math.min(attempt, 16);
      ALERTS.warn("alert webhook {} {}; retrying in {} ms", webhook, why, delayMillis);
      CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, background).execute(() -> send(body, attempt + 1));
    });
  }

  /** The hex HMAC-SHA256 of {@code timestamp.body} under {@code secret}: what a receiver recomputes. */
  public static String sign(byte[] secret, String timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(timestamp.getBytes(StandardCharsets.US_ASCII));
      mac.update((byte) '.');
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  static byte[] json(Alert a) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("source", "fhirwall");
      g.writeStringField("event", a.event());
      g.writeStringField("time", a.time().toString());
      g.writeStringField("account", a.account());
      g.writeStringField("user", a.displayName());
      if (a.role() != null) {
        g.writeStringField("role", a.role());
      }
      g.writeStringField("detail", a.detail());
      if (a.lockedUntil() != null) {
        g.writeStringField("locked_until", a.lockedUntil().toString());
      }
      g.writeStringField("request_id", a.requestId());
      g.writeEndObject();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    // in-flight deliveries finish on the HttpClient's own threads
  }
}
