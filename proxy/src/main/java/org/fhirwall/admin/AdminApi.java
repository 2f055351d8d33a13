package org.fhirwall.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.quota.Lock;
import org.fhirwall.quota.QuotaStore;
import org.jspecify.annotations.Nullable;

/**
 * The operator API, served on the admin port only (loopback by default):
 *
 * <ul>
 *   <li>{@code GET /health} — 200 while the process runs (no credential);
 *   <li>{@code GET /ready} — 200 while every {@link Readiness} check passes, 503 otherwise, with one
 *       line per check and warning (no credential);
 *   <li>{@code GET /metrics} — Prometheus text: requests, latency, patients disclosed, locks, alerts,
 *       the EPR's breaker and bulkhead, the issuer's keys, policy reloads, the JVM (no credential);
 *   <li>{@code GET /locks} — the accounts locked now, as JSON (operator token);
 *   <li>{@code DELETE /locks/{account}} — lift a lock (the account key, URL-encoded), audited with
 *       the operator's name (operator token).
 * </ul>
 *
 * <p>Every request must carry an allowed {@code Host} (421 otherwise); the lock API needs an
 * operator's bearer token ({@link AdminAccess}): 401 without one, 403 when none is configured.
 *
 * <p>Plain Java (no Netty): the server's admin handler passes method and path in and writes the
 * {@link AdminResponse} out.
 */
public final class AdminApi {
  private static final JsonFactory JSON = new JsonFactory();

  private final QuotaStore quota;
  private final AuditSink audit;
  private final Readiness readiness;
  private final Clock clock;
  private final AdminAccess access;
  private final Metrics metrics;

  public AdminApi(QuotaStore quota, AuditSink audit, Readiness readiness, Metrics metrics, Clock clock, AdminAccess access) {
    this.access = requireNonNull(access, "access");
    this.metrics = requireNonNull(metrics, "metrics");
    this.quota = requireNonNull(quota, "quota");
    this.audit = requireNonNull(audit, "audit");
    this.readiness = requireNonNull(readiness, "readiness");
    this.clock = requireNonNull(clock, "clock");
  }

  /** An answer: status, content type and body. */
  public record AdminResponse(int status, String contentType, byte[] body) {
    static AdminResponse json(int status, byte[] body) {
      return new AdminResponse(status, "application/json", body);
    }

    static AdminResponse text(int status, String text) {
      return new AdminResponse(status, "text/plain; charset=utf-8", (text + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * @param host the request's {@code Host} header, null when absent
   * @param authorization the request's {@code Authorization} header, null when absent
   */
  public CompletionStage<AdminResponse> handle(String method, String rawPath, @Nullable String host,
      @Nullable String authorization, String remoteAddress) {
    String path = rawPath;
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    if (!access.hostAllowed(host)) {
      return done(AdminResponse.text(421, "misdirected request: Host " + (host == null ? "missing" : "not served here")));
    }
    if (path.equals("/locks") || path.startsWith("/locks/")) {
      if (!access.locksEnabled()) {
        return done(AdminResponse.text(403, "the lock API is closed: no operator token is configured (admin.token-file)"));
      }
      Optional<String> operator = access.operator(authorization);
      if (operator.isEmpty()) {
        return done(new AdminResponse(401, "text/plain; charset=utf-8",
            "operator token required (Authorization: Bearer ...)\n".getBytes(StandardCharsets.UTF_8)));
      }
      return locks(method, path, operator.get(), remoteAddress);
    }
    if (path.equals("/health")) {
      return done(method.equals("GET") ? AdminResponse.text(200, "ok") : notAllowed());
    }
    if (path.equals("/metrics")) {
      if (!method.equals("GET")) {
        return done(notAllowed());
      }
      return done(new AdminResponse(200, "text/plain; version=0.0.4; charset=utf-8",
          metrics.scrape().getBytes(StandardCharsets.UTF_8)));
    }
    if (path.equals("/ready")) {
      if (!method.equals("GET")) {
        return done(notAllowed());
      }
      Readiness.Report report = readiness.report();
      return done(AdminResponse.text(report.ready() ? 200 : 503, report.text()));
    }
    return done(AdminResponse.text(404, "not found (expected: /health, /ready, /metrics, /locks, /locks/{account})"));
  }

  private CompletionStage<AdminResponse> locks(String method, String path, String operator, String remoteAddress) {
    if (path.equals("/locks")) {
      if (!method.equals("GET")) {
        return done(notAllowed());
      }
      return quota.locks(clock.instant()).thenApply(locks -> AdminResponse.json(200, locksJson(locks)));
    }
    if (path.startsWith("/locks/")) {
      if (!method.equals("DELETE")) {
        return done(notAllowed());
      }
      String account;
      try {
        account = URLDecoder.decode(path.substring("/locks/".length()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return done(AdminResponse.text(400, "malformed account key (expected: URL-encoded issuer|subject)"));
      }
      return quota.unlock(account).thenApply(found -> {
        if (found) {
          audit.write(AuditRecord.unlock(clock.instant(), account, operator, remoteAddress));
          return AdminResponse.text(200, "unlocked " + account);
        }
        return AdminResponse.text(404, "no lock for " + account);
      });
    }
    return done(AdminResponse.text(404, "not found (expected: /locks, /locks/{account})"));
  }

  private static AdminResponse notAllowed() {
    return AdminResponse.text(405, "method not allowed");
  }

  private static CompletionStage<AdminResponse> done(AdminResponse r) {
    return CompletableFuture.completedFuture(r);
  }

  static byte[] locksJson(List<Lock> locks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("locks");
      for (Lock l : locks) {
        g.writeStartObject();
        g.writeStringField("account", l.account());
        g.writeStringField("reason", l.reason());
        g.writeStringField("since", l.since().toString());
        g.writeStringField("until", l.until().toString());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
