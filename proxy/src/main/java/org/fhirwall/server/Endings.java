package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.fhirwall.audit.Alarms;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.audit.Trail;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.quota.ChargeResult;
import org.fhirwall.quota.WindowUsage;
import org.fhirwall.respond.Answer;
import org.fhirwall.respond.Refusals;

/**
 * How an exchange ends: exactly once, with one answer written and one audit record. Gives back
 * what the exchange took on the way (its slot in the principal's concurrency) and keeps the
 * connection open only when the request was read whole. Confined to the channel's event loop.
 */
final class Endings {
  private final ChannelHandlerContext ctx;
  private final HttpRequest head;
  private final RequestBody body;
  private final AuditSink audit;
  private final Alarms alarms;
  private final Duration writeTimeout;
  private final List<Runnable> onEnd = new ArrayList<>(1);
  /** The CORS headers every answer to this request carries (none unless its origin is allowed). */
  private final List<java.util.Map.Entry<String, String>> cors;
  private boolean ended;

  Endings(ChannelHandlerContext ctx, HttpRequest head, RequestBody body, AuditSink audit, Alarms alarms,
      Duration writeTimeout, org.fhirwall.respond.Cors cors) {
    this.cors = cors.headersFor(head.headers().get(HttpHeaderNames.ORIGIN));
    this.ctx = requireNonNull(ctx, "ctx");
    this.head = requireNonNull(head, "head");
    this.body = requireNonNull(body, "body");
    this.audit = requireNonNull(audit, "audit");
    this.alarms = requireNonNull(alarms, "alarms");
    this.writeTimeout = requireNonNull(writeTimeout, "writeTimeout");
  }

  /** Counts the exchange among those under way; false while shutting down (the request is then refused). */
  boolean admit(InFlight inFlight) {
    if (!inFlight.enter()) {
      return false;
    }
    onEnd(inFlight::exit);
    return true;
  }

  /** Something to give back when the exchange ends, however it ends (at once when it has already ended). */
  void onEnd(Runnable r) {
    if (ended) {
      r.run();
    } else {
      onEnd.add(r);
    }
  }

  /** Refuses: an OperationOutcome in the client's format, and the refusal's audit record. */
  void refuse(Trail t, Refusal refusal, AuditRecord.Outcome outcome, String rule, List<WindowUsage> usage) {
    if (answer(Refusals.answer(refusal, format(t), t.requestId()))) {
      audit.write(t.refused(refusal, outcome, rule, usage, System.nanoTime()));
      if (outcome == AuditRecord.Outcome.REFUSED || outcome == AuditRecord.Outcome.THROTTLED) {
        alarms.refused(t);
      }
    }
  }

  /** Refuses an answer whose patients were charged: the audit record names them. */
  void refuseCharged(Trail t, Refusal refusal, String rule, Set<String> patients, ChargeResult.Admitted charge) {
    if (answer(Refusals.answer(refusal, format(t), t.requestId()))) {
      audit.write(t.refusedAfterCharge(refusal, rule, patients, charge, System.nanoTime()));
      alarms.refused(t);
    }
  }

  private Format format(Trail t) {
    return t.request() != null ? t.request().responseFormat()
        : Responses.sniffFormat(head.uri(), head.headers().get(HttpHeaderNames.ACCEPT));
  }

  /** Writes the one answer of this exchange; false when it had already ended. */
  boolean answer(Answer answer) {
    if (ended) {
      return false;
    }
    ended = true;
    onEnd.forEach(Runnable::run);
    boolean keepAlive = HttpUtil.isKeepAlive(head) && body.complete();
    body.release();
    Answer out = answer;
    if (!cors.isEmpty()) {
      List<java.util.Map.Entry<String, String>> headers = new ArrayList<>(answer.headers());
      headers.addAll(cors);
      out = new Answer(answer.status(), headers, answer.content(), answer.closeConnection());
    }
    Responses.finish(ctx, out, keepAlive, writeTimeout);
    return true;
  }
}
