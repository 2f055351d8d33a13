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
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every alert at warn level on the {@code fhirwall.alert} logger and, when a webhook is
 * configured, POSTs it there as JSON (asynchronously; a failed delivery is logged at error level,
 * the alert is also in the audit log either way).
 */
public final class WebhookAlertSink implements AlertSink {
  private static final Logger ALERTS = LoggerFactory.getLogger("fhirwall.alert");
  private static final JsonFactory JSON = new JsonFactory();

  private final @Nullable URI webhook;
  private final HttpClient http;

  public WebhookAlertSink(@Nullable URI webhook, HttpClient http) {
    this.webhook = webhook;
    this.http = requireNonNull(http, "http");
  }

  @Override
  public void alert(Alert alert) {
    ALERTS.warn("{}: {} ({}) role={} {}{}", alert.event(), alert.displayName(), alert.account(), alert.role(),
        alert.detail(), alert.lockedUntil() != null ? " locked until " + alert.lockedUntil() : "");
    if (webhook == null) {
      return;
    }
    HttpRequest req = HttpRequest.newBuilder(webhook)
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(json(alert)))
        .build();
    http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
      if (e != null) {
        ALERTS.error("alert webhook {} unreachable: {}", webhook, e.toString());
      } else if (r.statusCode() >= 300) {
        ALERTS.error("alert webhook {} answered {}", webhook, r.statusCode());
      }
    });
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
