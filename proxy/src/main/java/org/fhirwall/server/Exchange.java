package org.fhirwall.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.Future;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditRecord.Outcome;
import org.fhirwall.audit.Trail;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Principal;
import org.fhirwall.care.CareRelationships;
import org.fhirwall.care.RelationshipChanges;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.ParseResult;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.RawRequest;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.fhir.ResourceId;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.policy.Decision;
import org.fhirwall.policy.LaunchContextRecords;
import org.fhirwall.policy.PolicyEngine;
import org.fhirwall.policy.SmartScopes;
import org.fhirwall.quota.ChargeRequest;
import org.fhirwall.quota.ChargeResult;
import org.fhirwall.quota.Enforcement;
import org.fhirwall.quota.PatientWindow;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.quota.RateGate;
import org.fhirwall.respond.Plan;
import org.fhirwall.respond.Refusals;
import org.fhirwall.respond.Responder;
import org.fhirwall.upstream.Forwarding;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * One request's way through fhirwall, in order — the only place that knows it: {@code auth} (from
 * the header, before the body is read), {@code fhir}, {@code policy}, {@code quota} (locked? rate?
 * in one step), {@code upstream}, {@code inspect} (which patients?), {@code quota} (charge them, or
 * refuse), {@code respond}, {@code audit}: each a call into its stage with immutable values.
 *
 * <p>Confined to the channel's event loop ({@link Steps} brings asynchronous results back to it).
 * Every ending goes through {@link #refuse} or {@link #release}: exactly one answer and one audit
 * record. An unexpected exception ends in a refusal (fail closed).
 */
final class Exchange {
  private final ChannelHandlerContext ctx;
  private final Stages stages;
  private final Upstream upstream;
  private final ProxySettings settings;
  private final HttpRequest head;
  private final RequestBody body;
  private final Steps steps;
  private final Trail arrived;
  private final Endings end;
  /**
   * The principal's care relationships, asked for as the request goes to the EPR (so a load, at
   * most once per ttl, overlaps the EPR's answer), for roles with {@code unexplained-limits}; null
   * otherwise. Set once, on the loop.
   */
  private @Nullable CompletionStage<CareRelationships> relationships;
  /**
   * The hold check ({@link #heldAtLimit}) asked with the admission and again when the answer is charged; null when
   * the request has none. Set once, on the loop.
   */
  private QuotaStore.@Nullable HoldCheck hold;

  Exchange(ChannelHandlerContext ctx, Stages stages, Upstream upstream, ProxySettings settings, HttpRequest head,
      RequestBody body) {
    this.ctx = ctx;
    this.stages = stages;
    this.upstream = upstream;
    this.settings = settings;
    this.head = head;
    this.body = body;
    this.steps = new Steps(ctx.executor(), stages.heavyWork(), this::crashed);
    this.end = new Endings(ctx, head, body, stages.audit(), stages.alarms(), settings.writeTimeout(),
        stages.publicAccess().cors());
    this.arrived = Trail.arrived(RequestIds.next(), stages.clock().instant(), System.nanoTime(),
        RequestIds.address(ctx.channel().remoteAddress()), head.method().name(), head.uri(), head.headers().get("traceparent"));
  }

  /**
   * 1. auth: who is asking, from the {@code Authorization} header alone (none while shutting down,
   * nor while the audit trail cannot record and the deployment refuses then).
   */
  void start(InFlight inFlight) {
    if (!end.admit(inFlight)) {
      body.discard(close -> refuse(arrived, Refusals.shuttingDown().closing(), Outcome.FAILED, "shutting-down"));
      return;
    }
    if (!stages.audit().accepting()) {
      body.discard(close -> refuse(arrived, close ? Refusals.auditUnavailable().closing() : Refusals.auditUnavailable(),
          Outcome.FAILED, "audit-unavailable"));
      return;
    }
    PublicEndpoints.Route route = PublicEndpoints.route(head, settings, stages.publicAccess());
    if (route != PublicEndpoints.Route.NONE) {
      PublicAnswers answers = new PublicAnswers(ctx, stages, upstream, settings, head, steps, end);
      body.discard(close -> steps.run(arrived, () -> answers.answer(arrived, route)));
      return;
    }
    steps.run(arrived, () -> steps.await(arrived, stages.authenticator().authenticate(
        Senders.credentials(ctx, head, settings), now()), this::identified,
        e -> refuse(arrived, Refusals.authenticationUnavailable(), Outcome.FAILED, "authentication-unavailable")));
  }

  private void identified(AuthOutcome outcome) {
    if (outcome instanceof AuthOutcome.Refused refused) {
      body.discard(close -> refuse(arrived, close ? refused.refusal().closing() : refused.refusal(), Outcome.REFUSED,
          "authentication"));
      return;
    }
    Trail who = arrived.by(((AuthOutcome.Authenticated) outcome).principal());
    body.collect(bytes -> understand(who, bytes), tooLarge -> refuse(who, tooLarge, Outcome.REFUSED, "request-body"));
  }

  /** 2. fhir: what is asked, in canonical form. */
  private void understand(Trail who, byte[] bytes) {
    RawRequest raw = RequestIds.raw(head, bytes);
    steps.offload(who, bytes.length > settings.inlineInspectBytes(), () -> stages.parser().parse(raw), parsed -> {
      if (parsed instanceof ParseResult.Rejected rejected) {
        refuse(who, rejected.refusal(), Outcome.REFUSED, "request-form");
        return;
      }
      FhirRequest request = ((ParseResult.Parsed) parsed).request();
      decide(who.asked(request, raw.first(settings.breakGlassHeader())), request);
    }, () -> refuse(who, Refusals.busy(), Outcome.FAILED, "parse-busy"));
  }

  /** 3. fhir (a paging link must be this principal's own) and policy: may they do this? */
  private void decide(Trail asked, FhirRequest request) {
    Principal p = asked.who();
    Trail t = asked;
    PageLinks.PageLink page = null;
    if (request.interaction() == Interaction.PAGE) {
      PageLinks.PageOpen opened = stages.pageLinks().open(request, p.pagingBinding(), now());
      if (opened instanceof PageLinks.PageOpen.Invalid invalid) {
        refuseUnlessLocked(t, invalid.refusal(), "page-link");
        return;
      }
      page = ((PageLinks.PageOpen.Opened) opened).link();
      t = t.paging(page.request(), page.upstreamTarget());
    }
    Decision decision = stages.policy().get().decide(p, page == null ? request : page.request(), t.breakGlassReason(),
        page == null ? 1 : page.pageNumber(), now());
    if (decision instanceof Decision.Deny deny) {
      refuseUnlessLocked(t, Refusals.of(deny), deny.rule());
      return;
    }
    Decision.Allow allow = (Decision.Allow) decision;
    Trail allowed = Steps.noted(t.allowed(allow), ExportBindings.cancelNote(allow)); // a cancel's record says so
    allowed = Steps.noted(allowed, page != null && page.end() ? PastTheEnd.NOTE : null);
    enter(allowed, allow, Plan.of(allow, page, p.pagingBinding(), SmartScopes.readableTypes(p)));
  }

  /**
   * 4. quota: a locked account gets nothing; request rate (each entry of a bundle counts) and
   * concurrency. A read the store foresees admitting goes to the EPR at once (its answer is read
   * and inspected as it comes, but goes on only once admitted, and is dropped if it is not);
   * everything else waits for the admission.
   */
  private void enter(Trail t, Decision.Allow allow, Plan plan) {
    // whose the export job or file it touches is, asked while it is admitted
    CompletionStage<Optional<Decision.Deny>> owned = ExportBindings.beforeEpr(stages.quota(), allow, now());
    hold = heldAtLimit(allow);
    QuotaStore.Admission admission = stages.quota().admit(allow.account(), allow.role().rate().toLimit(),
        Math.max(1, allow.request().entries().size()), owned == null && hold == null && goesAhead(allow.request()), hold, now());
    CompletionStage<Optional<QuotaStore.Held>> held = admission.held();
    AnswerAhead ahead = admission.forwardNow() ? new AnswerAhead(send(t, allow, plan),
        a -> Inspected.of(stages, plan, allow, a), settings.inlineInspectBytes()) : null;
    steps.await(t, admission.entry(), entry -> {
          boolean heard = false;
          try {
            if (entry instanceof RateGate.Entry.Locked l) {
              refuse(t, Refusals.locked(l.lock(), now()), Outcome.THROTTLED, "locked");
              return;
            }
            if (entry instanceof RateGate.Entry.Refused r) {
              refuse(t, Refusals.rate(allow.role().name(), r.reason(), r.retryAfter()), Outcome.THROTTLED, "rate");
              return;
            }
            end.onEnd(((RateGate.Entry.Entered) entry).ticket()::exit);
            if (held == null) {
              admitted(t, allow, plan, owned, ahead);
            } else {
              steps.await(t, held, h -> heldOrOn(t, allow, plan, owned, h),
                  e -> refuse(t, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store"));
            }
            heard = true;
          } finally {
            if (!heard && ahead != null) {
              ahead.drop(); // refused, or a stage failed on the way: the answer sent ahead is nobody's
            }
          }
        }, e -> {
          if (ahead != null) {
            ahead.drop();
          }
          refuse(t, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store");
        });
  }

  /** 4. quota: a held principal's request ends here, before the EPR ({@link #heldAtLimit}); any other goes on. */
  private void heldOrOn(Trail t, Decision.Allow allow, Plan plan, @Nullable CompletionStage<Optional<Decision.Deny>> owned,
      Optional<QuotaStore.Held> held) {
    if (held.isEmpty()) {
      admitted(t, allow, plan, owned, null);
      return;
    }
    refuseHeld(t, allow, held.get());
  }

  private void refuseHeld(Trail t, Decision.Allow allow, QuotaStore.Held h) {
    refuse(t, Refusals.held(allow.role().name(), h, now()), Outcome.THROTTLED,
        h.full() == null ? "held:refused-over-limit" : "held:patient-limit:" + h.full().name());
  }

  /** 4. the request is admitted (and not held): on to the EPR, after whatever must be known first. */
  private void admitted(Trail t, Decision.Allow allow, Plan plan, @Nullable CompletionStage<Optional<Decision.Deny>> owned,
      @Nullable AnswerAhead ahead) {
    if (allow.role().chargesUnexplained()) {
      relationships = stages.care().of(t.who());
    }
    Optional<ResourceId> readFirst = LaunchContextRecords.toReadFirst(t.who(), allow.request(), stages.patients());
    if (owned != null) {
      ownedThenSend(t, allow, plan, owned);
    } else if (readFirst.isPresent()) {
      readThenSend(t, allow, plan, readFirst.get());
    } else {
      hear(t, allow, plan, ahead != null ? ahead.future() : send(t, allow, plan), ahead);
    }
  }

  /**
   * 4. quota: a role that refuses answers at its limit ({@code at-limit.action: refuse}) is held before the EPR is asked
   * while a window is full or an answer was just refused over a limit, unless its answer can hold only patients it
   * names, each already counted ({@link QuotaStore#held}, {@code RequestPatients.namedAlone}): else each 429 would tell,
   * uncounted, that an answer held a patient. Asked with the admission (one round trip to a shared store). Null when
   * the role locks at its limit instead, reports only, under break-glass (every answer alerted on; charged to the same
   * windows, under a higher ceiling) and for the capability statement.
   */
  private QuotaStore.@Nullable HoldCheck heldAtLimit(Decision.Allow allow) {
    if (allow.reportOnly() || allow.breakGlass() || allow.role().atLimit().lockFor() != null
        || allow.request().interaction() == Interaction.CAPABILITIES) {
      return null;
    }
    return new QuotaStore.HoldCheck(allow.limits(), stages.patients().namedAlone(allow.request()));
  }

  /** 4. quota and policy: a bulk export's job or file goes to the EPR only for the account it is bound to. */
  private void ownedThenSend(Trail t, Decision.Allow allow, Plan plan, CompletionStage<Optional<Decision.Deny>> owned) {
    steps.await(t, owned, deny -> {
      if (deny.isPresent()) {
        refuse(t, Refusals.of(deny.get()), Outcome.REFUSED, deny.get().rule());
        return;
      }
      hear(t, allow, plan, send(t, allow, plan), null);
    }, e -> refuse(t, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store"));
  }

  /**
   * 4. upstream and policy: under a launch context, the record an update or delete by id replaces is read first and the
   * write goes only when it is the context patient's, conditional on the version read ({@link LaunchContextRecords}).
   */
  private void readThenSend(Trail t, Decision.Allow allow, Plan plan, ResourceId record) {
    RecordPreRead preRead = new RecordPreRead(upstream, ctx.channel().eventLoop(), stages.inspector(), stages.heavyWork(),
        settings.inlineInspectBytes());
    steps.await(t, preRead.read(record, t.requestId()), found -> judged(t, allow, plan, found),
        e -> judged(t, allow, plan, new LaunchContextRecords.Found.Unknown("pre-read failed")));
  }

  private void judged(Trail t, Decision.Allow allow, Plan plan, LaunchContextRecords.Found found) {
    FhirRequest asked = allow.request();
    LaunchContextRecords.Verdict v = LaunchContextRecords.judge(t.who(), asked, found, asked.forwardHeader("If-Match")
        .orElse(null));
    Trail n = Steps.noted(t, v.note());
    if (v instanceof LaunchContextRecords.Verdict.Refuse r) {
      refuse(n, Refusals.of(r.deny()), Outcome.REFUSED, r.deny().rule());
    } else if (v instanceof LaunchContextRecords.Verdict.Stale) {
      refuse(n, Refusals.versionChanged(), Outcome.REFUSED, "smart-patient-context:if-match");
    } else {
      String ifMatch = ((LaunchContextRecords.Verdict.Forward) v).ifMatch();
      FhirRequest forwarded = java.util.Objects.requireNonNull(plan.upstreamRequest(), "upstreamRequest");
      FhirRequest out = ifMatch == null ? forwarded : forwarded.withIfMatch(ifMatch);
      Optional<List<QueryParam>> pin = found instanceof LaunchContextRecords.Found.Record
          ? LaunchContextRecords.pinnedDelete(t.who(), forwarded, stages.patients()) : Optional.empty();
      if (pin.isPresent()) { // the EPR deletes it only if it is still the context patient's, If-Match or not
        out = out.conditionalOn(pin.get());
        n = Steps.noted(n, "sent as a delete pinned to the context patient (" + pin.get().get(1).name() + ")");
      }
      hear(n, allow, plan, out == forwarded ? send(n, allow, plan)
          : upstream.send(ctx.channel().eventLoop(), Forwarding.of(out, client(n))), null);
    }
  }

  /** Reads without side effects at the EPR: the only requests that may reach it before their admission. */
  private static boolean goesAhead(FhirRequest r) {
    if (!"GET".equals(r.method())) {
      return false;
    }
    return switch (r.interaction()) {
      case READ, VREAD, SEARCH_TYPE, SEARCH_SYSTEM, SEARCH_COMPARTMENT, HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM, PAGE -> true;
      default -> false;
    };
  }

  /**
   * 5. upstream: fhirwall's own canonical request (or the EPR's page target), never the client's; a
   * link past the last page is answered by fhirwall itself.
   */
  private Future<UpstreamResult> send(Trail t, Decision.Allow allow, Plan plan) {
    if (plan.pastTheEnd()) { // fhirwall's own link past a full last page: its own empty page, the EPR is not asked
      return ctx.channel().eventLoop().newSucceededFuture(PastTheEnd.page(settings.upstreamBaseUrl(), allow.request()));
    }
    return upstream.send(ctx.channel().eventLoop(), Forwarding.of(plan.upstreamRequest(), plan.pageTarget(), allow.request(),
        client(t)));
  }

  private Forwarding.Client client(Trail t) {
    return new Forwarding.Client(t.remoteAddress(), settings.publicScheme(), settings.publicHost(), t.requestId());
  }

  private void hear(Trail t, Decision.Allow allow, Plan plan, Future<UpstreamResult> answer, @Nullable AnswerAhead ahead) {
    answer.addListener(f -> steps.run(t, () -> answered(t, allow, plan, (UpstreamResult) f.getNow(),
        ahead == null ? null : ahead.take())));
  }

  private void answered(Trail t, Decision.Allow allow, Plan plan, UpstreamResult result, AnswerAhead.@Nullable Early early) {
    if (result instanceof UpstreamResult.Failure failure) {
      if (failure.kind() == UpstreamResult.Kind.TIMEOUT || failure.kind() == UpstreamResult.Kind.PROTOCOL) {
        signal(t, stages.quota().upstreamFailed(allow.account(), now()));
      }
      refuse(t, Refusals.upstream(failure), Outcome.FAILED, "upstream");
      return;
    }
    EprAnswer answer = early != null ? early.answer() : EprAnswer.of((UpstreamResult.Response) result);
    if (answer.status() >= 500) {
      signal(t, stages.quota().upstreamFailed(allow.account(), now()));
    }
    inspect(t, allow, plan, answer, early == null ? null : early.seen());
  }

  /**
   * 6. inspect: which patients the answer discloses (and those the request named: it tells of them
   * too); {@code done} when an answer sent ahead was inspected while its admission was on its way.
   */
  private void inspect(Trail t, Decision.Allow allow, Plan plan, EprAnswer a, @Nullable Inspected done) {
    steps.offload(t, done == null && a.body().length > settings.inlineInspectBytes(),
        () -> done != null ? done : Inspected.of(stages, plan, allow, a), seen -> {
      if (seen.inspection() instanceof Inspection.Unreadable u) {
        refuse(t, Refusals.unreadable(), Outcome.FAILED, "inspect:" + u.reason());
        return;
      }
      Inspection.Read read = (Inspection.Read) seen.inspection();
      if (seen.notFound() > 0) {
        var rules = allow.role().enumeration();
        signal(t, stages.quota().notFound(allow.account(), seen.notFound(), rules.window(), rules.maxNotFound(),
            rules.locks() && !allow.reportOnly() ? rules.lockFor() : null, now()));
      }
      Optional<Decision.Deny> late = PolicyEngine.afterInspection(allow, read.rootType());
      if (late.isPresent()) {
        refuse(t, Refusals.of(late.get()), Outcome.REFUSED, late.get().rule());
        return;
      }
      CompletionStage<Optional<Decision.Deny>> files = ExportBindings.inAnswer(stages.quota(), allow, read, now());
      if (files == null) {
        charge(t, allow, plan, a, read, seen.fillsAPage());
        return;
      }
      steps.await(t, files, deny -> deny.ifPresentOrElse(d -> refuse(t, Refusals.of(d), Outcome.REFUSED, d.rule()),
          () -> charge(t, allow, plan, a, read, seen.fillsAPage())), e -> refuse(t, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store"));
    }, () -> refuse(t, Refusals.busy(), Outcome.FAILED, "inspect-busy"));
  }

  /** 7. care: which of the patients a care relationship explains (for roles with an unexplained budget). */
  private void charge(Trail t, Decision.Allow allow, Plan plan, EprAnswer a, Inspection.Read read, boolean fillsAPage) {
    CompletionStage<CareRelationships> care = relationships;
    if (care == null) {
      charge(t, allow, plan, a, read, fillsAPage, null);
      return;
    }
    steps.await(t, care, known -> charge(t, allow, plan, a, read, fillsAPage, known.split(read.patients(), now())),
        e -> charge(t, allow, plan, a, read, fillsAPage, new CareRelationships.Unknown(e.toString()).split(read.patients(), now())));
  }

  /** 7. quota: charge the patients (the unexplained ones to their budget too), or refuse the answer (and lock, alert) at a limit. */
  private void charge(Trail t, Decision.Allow allow, Plan plan, EprAnswer a, Inspection.Read read, boolean fillsAPage,
      CareRelationships.@Nullable Split split) {
    Trail c = split == null ? t : Steps.noted(t, split.notes());
    ChargeRequest request = new ChargeRequest(allow.account(), allow.limits(), allow.tracked(), read.patients(), now(),
        !allow.reportOnly(), split == null ? ChargeRequest.Unexplained.NONE : allow.unexplained(split.unexplained()), hold);
    steps.await(c, stages.quota().charge(request, allow.reportOnly() ? null : allow.role().atLimit().lockFor()), charged -> {
      Trail n = Steps.noted(c, charged.note());
      if (charged instanceof Enforcement.Charged.Held held) { // the same answer as before the EPR: it tells nothing
        refuseHeld(Steps.noted(n, "held when its answer came (the account was held meanwhile)"), allow, held.result().held());
        return;
      }
      if (charged instanceof Enforcement.Charged.OverLimit over) {
        stages.alarms().overLimit(n, over);
        PatientWindow w = over.result().breached().window();
        end.refuse(n, Refusals.overLimit(allow.role().name(), over, now()), Outcome.THROTTLED,
            w.unexplained() ? "unexplained-limit:" + w.name().substring("unexplained-".length()) : "patient-limit:" + w.name(),
            over.result().usage());
      } else {
        // a resolved count is refused when its page is full, once that page is charged: the refusal tells no more than it
        Optional<Decision.Deny> count = PolicyEngine.countBeyondAPage(allow, fillsAPage);
        ChargeResult.Admitted admitted = ((Enforcement.Charged.Admitted) charged).result();
        Optional<Decision.Deny> late = count.or(() -> PolicyEngine.outsideLaunchContext(t.who(), read.patients()));
        if (late.isPresent()) {
          end.refuseCharged(n, Refusals.of(late.get()), late.get().rule(), read.patients(), admitted);
          return;
        }
        handOver(n, allow, plan, a, read, admitted, split);
      }
    }, e -> refuse(c, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store"));
  }

  /** 8. quota: what a bulk export answer hands over (its job, its files) is bound to the account before it leaves. */
  private void handOver(Trail t, Decision.Allow allow, Plan plan, EprAnswer a, Inspection.Read read,
      ChargeResult.Admitted admitted, CareRelationships.@Nullable Split split) {
    ExportBindings.Handover h = ExportBindings.handover(allow, plan, a, settings.upstreamBaseUrl());
    if (h instanceof ExportBindings.Handover.Unbindable u) {
      refuse(t, Refusals.unbindable(), Outcome.FAILED, "export-binding:" + u.reason());
      return;
    }
    if (!(h instanceof ExportBindings.Handover.Binds binds)) {
      release(t, plan, a, read, admitted, split);
      return;
    }
    steps.await(t, stages.quota().bind(allow.account(), binds.keys(), now()), others -> {
      Optional<Decision.Deny> notYours = binds.heldByOthers(others); // a file bound to another account already
      if (notYours.isPresent()) {
        refuse(t, Refusals.of(notYours.get()), Outcome.REFUSED, notYours.get().rule());
        return;
      }
      release(Steps.noted(t, binds.note()), plan, a, read, admitted, split);
    }, e -> refuse(t, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store"));
  }

  /** 9. respond: the answer as the client may see it; 10. audit (and a relationship change, when it is one). */
  private void release(Trail t, Plan plan, EprAnswer a, Inspection.Read read, ChargeResult.Admitted admitted,
      CareRelationships.@Nullable Split split) {
    var out = new Responder.Outgoing(a.status(), a.contentType(), a.headers(), read, plan, t.requestId(), now());
    steps.offload(t, stages.responder().isHeavy(out), () -> stages.responder().shape(out), shaped -> {
      if (shaped.isEmpty()) {
        refuse(t, Refusals.unshapeable(), Outcome.FAILED, "shaping");
        return;
      }
      if (!end.answer(shaped.get())) {
        return;
      }
      stages.audit().write(t.released(a.status(), read.patients(), admitted, split == null ? null : split.explained(),
          System.nanoTime()));
      if (t.breakGlassReason() != null) {
        stages.alarms().breakGlass(t, read.patients().size());
      }
      if (a.status() < 300 && t.request() != null) {
        RelationshipChanges.of(t.request(), a.header("Location")).ifPresent(change -> stages.audit().write(
            t.event(AuditRecord.Kind.RELATIONSHIP_CHANGE, Outcome.ALLOWED, a.status(), now(), "relationship-change", change,
                null, System.nanoTime())));
      }
    }, () -> refuse(t, Refusals.busy(), Outcome.FAILED, "convert-busy"));
  }

  private void refuse(Trail t, Refusal refusal, Outcome outcome, String rule) {
    end.refuse(t, refusal, outcome, rule, List.of());
  }

  /** A refused request of a locked account gets the lock's refusal (429), like every other request of it. */
  private void refuseUnlessLocked(Trail t, Refusal refusal, String rule) {
    steps.await(t, stages.quota().lockOf(t.who().accountKey(), now()), lock -> lock.ifPresentOrElse(
        l -> refuse(t, Refusals.locked(l, now()), Outcome.THROTTLED, "locked"), () -> refuse(t, refusal, Outcome.REFUSED, rule)),
        e -> refuse(t, Refusals.storeUnavailable(), Outcome.FAILED, "quota-store"));
  }

  /** A signal from quota (an id walk, EPR failures): audited and alerted once it crosses its threshold. */
  private void signal(Trail t, CompletionStage<Optional<Enforcement.Signal>> stage) {
    steps.await(t, stage, s -> s.ifPresent(signal -> stages.alarms().signal(t, signal)),
        e -> LoggerFactory.getLogger(Exchange.class).warn("a signal could not be recorded: {}", e.toString()));
  }

  private void crashed(Trail t, Throwable e) {
    LoggerFactory.getLogger(Exchange.class).error("request {} failed in a stage", t.requestId(), e);
    refuse(t, Refusals.internal(t.requestId()), Outcome.FAILED, "internal-error");
  }

  private Instant now() {
    return stages.clock().instant();
  }
}
