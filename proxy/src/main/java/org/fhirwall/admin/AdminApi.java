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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.quota.Lock;
import org.fhirwall.quota.QuotaStore;

/**
 * The operator API, served on the admin port only (loopback by default):
 *
 * <ul>
 *   <li>{@code GET /health} — 200 while the process runs;
 *   <li>{@code GET /ready} — 200 once policies are loaded and the proxy listens, 503 before;
 *   <li>{@code GET /locks} — the accounts locked now, as JSON;
 *   <li>{@code DELETE /locks/{account}} — lift a lock (the account key, URL-encoded), audited.
 * </ul>
 *
 * <p>Plain Java (no Netty): the server's admin handler passes method and path in and writes the
 * {@link AdminResponse} out.
 */
public final class AdminApi {
  private static final JsonFactory JSON = new JsonFactory();

  private final QuotaStore quota;
  private final AuditSink audit;
  private final BooleanSupplier ready;
  private final Clock clock;

  public AdminApi(QuotaStore quota, AuditSink audit, BooleanSupplier ready, Clock clock) {
    this.quota = requireNonNull(quota, "quota");
    this.audit = requireNonNull(audit, "audit");
    this.ready = requireNonNull(ready, "ready");
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

  public CompletionStage<AdminResponse> handle(String method, String rawPath, String remoteAddress) {
    String path = rawPath;
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    if (path.equals("/health")) {
      return done(method.equals("GET") ? AdminResponse.text(200, "ok") : notAllowed());
    }
    if (path.equals("/ready")) {
      if (!method.equals("GET")) {
        return done(notAllowed());
      }
      return done(ready.getAsBoolean() ? AdminResponse.text(200, "ready") : AdminResponse.text(503, "starting"));
    }
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
          audit.write(new AuditRecord(AuditRecord.Kind.UNLOCK, clock.instant(), "admin-" + System.nanoTime(),
              AuditRecord.Outcome.ALLOWED, 200, null, null, null, "DELETE", null, null, null, "/locks/" + account,
              List.of(), 0, java.util.Map.of(), "unlock", "lock lifted by operator for " + account, List.of(), null,
              remoteAddress, null, 0));
          return AdminResponse.text(200, "unlocked " + account);
        }
        return AdminResponse.text(404, "no lock for " + account);
      });
    }
    return done(AdminResponse.text(404, "not found (expected: /health, /ready, /locks, /locks/{account})"));
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
