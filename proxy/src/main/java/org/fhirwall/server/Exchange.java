package org.fhirwall.server;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.fhirwall.audit.Alert;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.CanonicalForm;
import org.fhirwall.fhir.CanonicalRequest;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.ParseResult;
import org.fhirwall.fhir.RawRequest;
import org.fhirwall.fhir.RequestPatients;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.inspect.BinaryContent;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.Projection;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.policy.Decision;
import org.fhirwall.policy.EnumerationRules;
import org.fhirwall.quota.ChargeRequest;
import org.fhirwall.quota.ChargeResult;
import org.fhirwall.quota.Lock;
import org.fhirwall.quota.RateGate;
import org.fhirwall.quota.WindowUsage;
import org.fhirwall.upstream.UpstreamClient;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's way through fhirwall, in the order of DESIGN.md — the only place that knows it:
 *
 * <ol>
 *   <li>{@link #understand} — {@code fhir}: classify and canonicalise, or refuse;
 *   <li>{@link #authenticate} — {@code auth}: verify the bearer token;
 *   <li>{@link #checkLock} — {@code quota}: a locked account gets nothing;
 *   <li>{@link #openPage} — {@code fhir}: a paging link must be this principal's own;
 *   <li>{@link #decide} — {@code policy}: may this principal do this, charged to which windows;
 *   <li>{@link #forward} — {@code upstream}: the canonical request to the EPR;
 *   <li>{@link #inspect} — {@code inspect}: which patients the response discloses;
 *   <li>{@link #charge} — {@code quota}: charge them, or refuse the response (and lock, alert);
 *   <li>{@link #release} — rewrite links, convert the format, send; {@code audit} records every ending.
 * </ol>
 *
 * <p>Confined to the channel's event loop: asynchronous results hop back to it before the next
 * stage runs. Every ending goes through {@link #refuse} or {@link #release}, each of which writes
 * exactly one audit record. Any unexpected exception ends in a refusal (fail closed).
 */
final class Exchange {
  private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);
  private static final Set<String> PASSED_RESPONSE_HEADERS =
      Set.of("etag", "last-modified", "retry-after", "x-progress", "expires");

  private final ChannelHandlerContext ctx;
  private final Stages stages;
  private final UpstreamClient upstream;
  private final ProxySettings settings;
  private final LinkRewriter links;
  private final long startNanos = System.nanoTime();
  private final Instant start;
  private final String requestId;
  private final boolean keepAlive;
  private final String remoteAddress;
  private final RawRequest raw;
  private final @Nullable String traceparent;

  private Format format;
  private @Nullable FhirRequest request;
  private @Nullable Principal principal;
  private Decision.@Nullable Allow allowed;
  private @Nullable String pageTarget;
  /** This request's slot in its principal's concurrency limit; given back when the exchange ends. */
  private RateGate.@Nullable Ticket rateTicket;
  /** What the client asked to see of each resource; fhirwall applies it after counting. */
  private @Nullable Projection projection;
  private @Nullable String searchedType;
  private int pageNumber = 1;
  private @Nullable String breakGlassReason;
  private boolean ended;

  Exchange(ChannelHandlerContext ctx, Stages stages, UpstreamClient upstream, ProxySettings settings,
      LinkRewriter links, FullHttpRequest req) {
    this.ctx = ctx;
    this.stages = stages;
    this.upstream = upstream;
    this.settings = settings;
    this.links = links;
    this.start = stages.clock().instant();
    this.requestId = newRequestId();
    this.keepAlive = HttpUtil.isKeepAlive(req);
    this.remoteAddress = address(ctx.channel().remoteAddress());
    List<RawRequest.Header> headers = new ArrayList<>(req.headers().size());
    for (Map.Entry<String, String> e : req.headers()) {
      headers.add(new RawRequest.Header(e.getKey(), e.getValue()));
    }
    this.raw = new RawRequest(req.method().name(), req.uri(), headers, ByteBufUtil.getBytes(req.content()));
    this.format = Responses.sniffFormat(req.uri(), raw.first("Accept"));
    this.traceparent = raw.first("traceparent");
  }

  void run() {
    guarded(this::understand);
  }

  // 1. fhir ---------------------------------------------------------------------------------------

  private void understand() {
    if (raw.body().length <= settings.inlineInspectBytes()) {
      understood(stages.parser().parse(raw));
      return;
    }
    // Large bodies (bundles, XML) are parsed off the event loop.
    try {
      stages.heavyWork().execute(() -> {
        ParseResult parsed = stages.parser().parse(raw);
        ctx.executor().execute(() -> guarded(() -> understood(parsed)));
      });
    } catch (RejectedExecutionException e) {
      refuse(Refusal.of(503, IssueType.TRANSIENT, "fhirwall is busy, try again shortly").withHeader("Retry-After", "2"),
          AuditRecord.Outcome.FAILED, "parse-busy");
    }
  }

  private void understood(ParseResult parsed) {
    if (parsed instanceof ParseResult.Rejected rejected) {
      refuse(rejected.refusal(), AuditRecord.Outcome.REFUSED, "request-form");
      return;
    }
    request = ((ParseResult.Parsed) parsed).request();
    format = request.responseFormat();
    breakGlassReason = raw.first(settings.breakGlassHeader());
    authenticate();
  }

  // 2. auth ---------------------------------------------------------------------------------------

  private void authenticate() {
    CompletionStage<AuthOutcome> outcome = stages.authenticator().authenticate(raw.first("Authorization"), stages.clock().instant());
    onLoop(outcome, this::authenticated, e -> refuse(new Refusal(503, IssueType.TRANSIENT,
        "Token verification unavailable, try again shortly", Map.of("Retry-After", "5"), false),
        AuditRecord.Outcome.FAILED, "authentication-unavailable"));
  }

  private void authenticated(AuthOutcome outcome) {
    if (outcome instanceof AuthOutcome.Refused r) {
      refuse(r.refusal(), AuditRecord.Outcome.REFUSED, "authentication");
      return;
    }
    principal = ((AuthOutcome.Authenticated) outcome).principal();
    checkLock();
  }

  // 3. quota: locks -------------------------------------------------------------------------------

  private void checkLock() {
    onLoop(stages.quota().lockOf(principal.accountKey(), stages.clock().instant()), this::lockChecked,
        e -> refuse(storeUnavailable(), AuditRecord.Outcome.FAILED, "quota-store"));
  }

  private void lockChecked(Optional<Lock> lock) {
    if (lock.isPresent()) {
      Duration left = Duration.between(stages.clock().instant(), lock.get().until());
      refuse(throttled("Account locked until " + lock.get().until() + " (" + lock.get().reason() + "); contact your security officer",
          left), AuditRecord.Outcome.THROTTLED, "locked");
      return;
    }
    openPage();
  }

  // 4. fhir: paging links -------------------------------------------------------------------------

  private void openPage() {
    if (request.interaction() != Interaction.PAGE) {
      searchedType = request.resourceType();
      decide();
      return;
    }
    PageLinks.PageOpen opened = stages.pageLinks().open(request, binding(principal), stages.clock().instant());
    if (opened instanceof PageLinks.PageOpen.Invalid invalid) {
      refuse(invalid.refusal(), AuditRecord.Outcome.REFUSED, "page-link");
      return;
    }
    PageLinks.PageLink link = ((PageLinks.PageOpen.Opened) opened).link();
    PageTargets.Split split = PageTargets.split(link.upstreamTarget());
    pageTarget = split.target();
    projection = split.projection();
    pageNumber = link.pageNumber();
    searchedType = link.searchedType();
    request = link.request();
    decide();
  }

  // 5. policy -------------------------------------------------------------------------------------

  private void decide() {
    Decision decision = stages.policy().get().decide(principal, request, breakGlassReason, pageNumber, stages.clock().instant());
    if (decision instanceof Decision.Deny deny) {
      refuse(deny.refusal(), AuditRecord.Outcome.REFUSED, deny.rule());
    } else if (decision instanceof Decision.Throttle t) {
      refuse(throttled(t.reason(), t.retryAfter()), AuditRecord.Outcome.THROTTLED, "throttle");
    } else {
      allowed = (Decision.Allow) decision;
      enterRate();
    }
  }

  // 5b. quota: request rate and concurrency per principal -----------------------------------------

  private void enterRate() {
    RateGate.Entry entry = stages.rates().tryEnter(allowed.account(), allowed.role().rate().toLimit());
    if (entry instanceof RateGate.Entry.Refused r) {
      refuse(throttled("Too many requests: " + r.reason() + " for role " + allowed.role().name(), r.retryAfter()),
          AuditRecord.Outcome.THROTTLED, "rate");
      return;
    }
    rateTicket = ((RateGate.Entry.Entered) entry).ticket();
    forward();
  }

  // 6. upstream -----------------------------------------------------------------------------------

  private void forward() {
    FhirRequest r = allowed.request();
    UpstreamRequest up;
    List<Map.Entry<String, String>> headers = new ArrayList<>(r.forwardHeaders().size() + 4);
    for (RawRequest.Header h : r.forwardHeaders()) {
      headers.add(Map.entry(h.name(), h.value()));
    }
    String proto = settings.publicScheme();
    String host = settings.publicHost();
    headers.add(Map.entry("X-Forwarded-For", remoteAddress));
    headers.add(Map.entry("X-Forwarded-Proto", proto));
    headers.add(Map.entry("X-Forwarded-Host", host));
    headers.add(Map.entry("Forwarded", "for=\"" + remoteAddress + "\";proto=" + proto + ";host=\"" + host + "\""));
    headers.add(Map.entry("X-Request-Id", requestId));
    if (pageTarget != null) {
      up = new UpstreamRequest("GET", pageTarget, headers, new byte[0]);
    } else {
      projection = Projection.of(r.params());
      r = withoutProjections(r);
      CanonicalRequest c = CanonicalForm.of(r);
      for (RawRequest.Header h : c.headers()) {
        headers.add(Map.entry(h.name(), h.value()));
      }
      up = new UpstreamRequest(c.method(), c.target(), headers, c.body().bytes());
    }
    upstream.send(ctx.channel().eventLoop(), up).addListener(f -> guarded(() -> answered((UpstreamResult) f.getNow())));
  }

  private void answered(UpstreamResult result) {
    if (result instanceof UpstreamResult.Failure failure) {
      refuse(Refusal.of(failure.kind().status(), failure.kind().status() == 504 ? IssueType.TIMEOUT : IssueType.TRANSIENT,
          "The EPR did not answer properly: " + failure.detail()), AuditRecord.Outcome.FAILED, "upstream");
      return;
    }
    UpstreamResult.Response response = (UpstreamResult.Response) result;
    byte[] body;
    try {
      body = ByteBufUtil.getBytes(response.body());
    } finally {
      response.body().release();
    }
    if (ended || !ctx.channel().isActive()) {
      ended = true;
      exitRate();
      return;
    }
    if (response.status() == 404 && (request.interaction() == Interaction.READ || request.interaction() == Interaction.VREAD)) {
      notFound();
    }
    inspect(response.status(), response.headers(), body);
  }

  // 7. inspect ------------------------------------------------------------------------------------

  private void inspect(int status, HttpHeaders headers, byte[] body) {
    if (status == 200 && "export-poll-status".equals(allowed.request().operation())) {
      // A bulk export's completion manifest: JSON, not a resource; it names files, not patients.
      Optional<byte[]> manifest = links.manifest(body);
      if (manifest.isEmpty()) {
        refuse(Refusal.of(502, IssueType.PROCESSING, "The EPR's bulk export manifest could not be checked and was withheld"),
            AuditRecord.Outcome.FAILED, "inspect:bulk-manifest");
        return;
      }
      charge(status, headers, new Inspection.Read(manifest.get(), Set.of(), List.of(), Set.of(), 0));
      return;
    }
    ResponseBody responseBody = new ResponseBody(body, headers.get(HttpHeaderNames.CONTENT_TYPE),
        headers.get(HttpHeaderNames.CONTENT_ENCODING));
    if (body.length <= settings.inlineInspectBytes()) {
      inspected(status, headers, stages.inspector().inspect(responseBody));
      return;
    }
    try {
      stages.heavyWork().execute(() -> {
        Inspection inspection;
        try {
          inspection = stages.inspector().inspect(responseBody);
        } catch (RuntimeException e) {
          LOG.error("inspector failed", e);
          inspection = new Inspection.Unreadable("inspector error: " + e.getClass().getSimpleName());
        }
        Inspection done = inspection;
        ctx.executor().execute(() -> guarded(() -> inspected(status, headers, done)));
      });
    } catch (RejectedExecutionException e) {
      refuse(Refusal.of(503, IssueType.TRANSIENT, "fhirwall is busy inspecting other responses, try again shortly")
          .withHeader("Retry-After", "2"), AuditRecord.Outcome.FAILED, "inspect-busy");
    }
  }

  private void inspected(int status, HttpHeaders headers, Inspection inspection) {
    if (inspection instanceof Inspection.Unreadable unreadable) {
      // Fail closed: a body we could not read through may carry patients.
      LOG.warn("request {}: upstream response could not be inspected: {}", requestId, unreadable.reason());
      refuse(Refusal.of(502, IssueType.PROCESSING, "The EPR's response could not be inspected and was withheld"),
          AuditRecord.Outcome.FAILED, "inspect:" + unreadable.reason());
      return;
    }
    charge(status, headers, (Inspection.Read) inspection);
  }

  // 8. quota: charge ------------------------------------------------------------------------------

  private void charge(int status, HttpHeaders headers, Inspection.Read inspected) {
    Inspection.Read read = inspected;
    if (status >= 200 && status < 300) {
      // A count, an empty search or a matched condition about a named patient discloses that patient too.
      Set<String> named = RequestPatients.named(allowed.request());
      if (!named.isEmpty() && !inspected.patients().containsAll(named)) {
        Set<String> all = new HashSet<>(inspected.patients());
        all.addAll(named);
        read = new Inspection.Read(inspected.json(), all, inspected.urls(), inspected.resourceTypes(), inspected.resourceCount());
      }
    }
    Inspection.Read charged = read;
    ChargeRequest charge = new ChargeRequest(allowed.account(), allowed.windows(), read.patients(),
        stages.clock().instant(), !allowed.reportOnly());
    onLoop(stages.quota().charge(charge), result -> charged(status, headers, charged, result),
        e -> refuse(storeUnavailable(), AuditRecord.Outcome.FAILED, "quota-store"));
  }

  private void charged(int status, HttpHeaders headers, Inspection.Read read, ChargeResult result) {
    if (result instanceof ChargeResult.Refused refused) {
      atLimit(refused);
      return;
    }
    ChargeResult.Admitted admitted = (ChargeResult.Admitted) result;
    List<String> notes = new ArrayList<>(allowed.notes());
    if (admitted.wouldRefuse() != null) {
      WindowUsage w = admitted.wouldRefuse();
      notes.add("report-only: over the " + w.window().name() + " limit (" + w.distinct() + "/" + w.window().max() + ")");
    }
    release(status, headers, read, admitted, notes);
  }

  private void atLimit(ChargeResult.Refused refused) {
    WindowUsage w = refused.breached();
    String limit = "the " + w.window().name() + " limit of " + w.window().max() + " distinct patients";
    var atLimit = allowed.role().atLimit();
    Instant now = stages.clock().instant();
    Duration retry = refused.retryAfter();
    String detail = "This response would take you over " + limit + " for role " + allowed.role().name();
    if (atLimit.locks()) {
      onLoop(stages.quota().lock(principal.accountKey(), limit + " reached", atLimit.lockFor(), now), lock -> {
        alertAndAudit(AuditRecord.Kind.LOCK, "account-locked", limit + " reached", lock.until());
        refuse(throttled(detail + "; your account is locked until " + lock.until(), Duration.between(now, lock.until())),
            AuditRecord.Outcome.THROTTLED, "patient-limit:" + w.window().name(), refused.usage());
      }, e -> refuse(storeUnavailable(), AuditRecord.Outcome.FAILED, "quota-store"));
      return;
    }
    if (atLimit.alert()) {
      alertAndAudit(AuditRecord.Kind.ALERT, "patient-limit-reached", limit + " reached", null);
    }
    refuse(throttled(detail, retry), AuditRecord.Outcome.THROTTLED, "patient-limit:" + w.window().name(), refused.usage());
  }

  /**
   * The enumeration signal: a read that found nothing. Past the role's threshold the account is
   * locked (or an alert raised); this answer (a 404) still goes out, the next requests do not.
   */
  private void notFound() {
    EnumerationRules rules = allowed.role().enumeration();
    Instant now = stages.clock().instant();
    if (!stages.notFound().notFound(allowed.account(), rules.window(), rules.maxNotFound(), now)) {
      return;
    }
    String detail = "more than " + rules.maxNotFound() + " reads of records that do not exist within " + rules.window()
        + " (an id walk)";
    if (rules.action() == EnumerationRules.Action.LOCK && rules.lockFor() != null && !allowed.reportOnly()) {
      onLoop(stages.quota().lock(principal.accountKey(), detail, rules.lockFor(), now),
          lock -> raise(AuditRecord.Kind.LOCK, "account-locked", detail, lock.until(), true),
          e -> LOG.warn("request {}: enumeration lock could not be stored: {}", requestId, e.toString()));
    } else {
      raise(AuditRecord.Kind.ALERT, "enumeration-suspected", detail, null, true);
    }
  }

  private void alertAndAudit(AuditRecord.Kind kind, String event, String detail, @Nullable Instant lockedUntil) {
    raise(kind, event, detail, lockedUntil, allowed.role().atLimit().alert());
  }

  private void raise(AuditRecord.Kind kind, String event, String detail, @Nullable Instant lockedUntil, boolean alert) {
    Instant now = stages.clock().instant();
    if (alert) {
      stages.alerts().alert(new Alert(now, event, principal.accountKey(), principal.displayName(), allowed.role().name(),
          detail, lockedUntil, requestId));
    }
    stages.audit().write(new AuditRecord(kind, now, requestId, AuditRecord.Outcome.THROTTLED, 429, principal,
        allowed.role().name(), allowed.role().mode().code(), raw.method(), request.interaction().code(), request.resourceType(),
        request.operation(), target(), List.of(), 0, Map.of(), event, detail + (lockedUntil != null ? "; locked until " + lockedUntil : ""),
        List.of(), breakGlassReason, remoteAddress, traceparent, micros()));
  }

  // 9. release ------------------------------------------------------------------------------------

  private void release(int status, HttpHeaders upstreamHeaders, Inspection.Read read, ChargeResult.Admitted admitted,
      List<String> notes) {
    byte[] json = links.rewrite(read, new LinkRewriter.PageContext(searchedType, pageNumber, binding(principal),
        stages.clock().instant(), projection == null ? "" : PageTargets.query(projection),
        allowed.request().responseFormat() == Format.XML ? "&_format=xml" : ""));
    // A bulk export file: read (and counted) as a FHIR Binary, released as its raw NDJSON.
    boolean unwrapBinary = status == 200 && allowed.request().interaction() == Interaction.READ
        && "Binary".equals(allowed.request().resourceType()) && allowed.request().responseFormat() == Format.NDJSON;
    boolean fhirJson = json.length > 0 && isJsonBody(upstreamHeaders);
    boolean toXml = allowed.request().responseFormat() == Format.XML && fhirJson;
    Projection shape = fhirJson && status < 300 ? projection : null;
    if (!unwrapBinary && !toXml && shape == null) {
      send(status, upstreamHeaders, json, contentType(upstreamHeaders, json.length), read, admitted, notes);
      return;
    }
    // Decoding, projecting and converting whole bodies is work for the heavy pool, not the event loop.
    try {
      stages.heavyWork().execute(() -> {
        Shaped shaped;
        try {
          shaped = shape(json, upstreamHeaders, unwrapBinary, shape, toXml);
        } catch (RuntimeException e) {
          LOG.warn("request {}: response could not be shaped for the client: {}", requestId, e.toString());
          shaped = null;
        }
        Shaped done = shaped;
        ctx.executor().execute(() -> guarded(() -> {
          if (done == null) {
            refuse(Refusal.of(502, IssueType.PROCESSING, "The EPR's response could not be converted for this client"),
                AuditRecord.Outcome.FAILED, "shaping");
          } else {
            send(status, upstreamHeaders, done.body(), done.contentType(), read, admitted, notes);
          }
        }));
      });
    } catch (RejectedExecutionException e) {
      refuse(Refusal.of(503, IssueType.TRANSIENT, "fhirwall is busy, try again shortly").withHeader("Retry-After", "2"),
          AuditRecord.Outcome.FAILED, "convert-busy");
    }
  }

  /** A body in the form the client asked for. */
  private record Shaped(byte[] body, @Nullable String contentType) {}

  private Shaped shape(byte[] json, HttpHeaders upstreamHeaders, boolean unwrapBinary, @Nullable Projection projection,
      boolean toXml) {
    if (unwrapBinary) {
      Optional<BinaryContent.Content> content = BinaryContent.of(json);
      if (content.isPresent()) {
        return new Shaped(content.get().bytes(), content.get().contentType());
      }
    }
    byte[] out = projection == null ? json : projection.apply(stages.fhir(), json);
    if (toXml) {
      return new Shaped(stages.formats().jsonToXml(out, allowed.request().pretty()), Format.XML.contentType());
    }
    return new Shaped(out, contentType(upstreamHeaders, out.length));
  }

  /** The request without the projection parameters, at top level and in every bundle entry. */
  private static FhirRequest withoutProjections(FhirRequest r) {
    FhirRequest out = r.withParams(Projection.without(r.params()));
    if (!r.entries().isEmpty()) {
      List<FhirRequest.BundleEntry> entries = new ArrayList<>(r.entries().size());
      for (FhirRequest.BundleEntry e : r.entries()) {
        entries.add(new FhirRequest.BundleEntry(e.index(), e.fullUrl(), withoutProjections(e.request()), e.resourceJson()));
      }
      out = out.withEntries(entries);
    }
    return out;
  }

  private static boolean isJsonBody(HttpHeaders h) {
    String ct = h.get(HttpHeaderNames.CONTENT_TYPE);
    return ct == null || ct.contains("json") && !ct.contains("ndjson") || ct.contains("xml");
  }

  private static @Nullable String contentType(HttpHeaders h, int length) {
    if (length == 0) {
      return null;
    }
    String ct = h.get(HttpHeaderNames.CONTENT_TYPE);
    if (ct == null || ct.contains("xml")) {
      // the inspector converted an XML answer to JSON
      return Format.JSON.contentType();
    }
    return ct;
  }

  private void send(int status, HttpHeaders upstreamHeaders, byte[] body, @Nullable String contentType,
      Inspection.Read read, ChargeResult.Admitted admitted, List<String> notes) {
    if (ended) {
      return;
    }
    ended = true;
    exitRate();
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        body.length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
    HttpHeaders h = response.headers();
    for (Map.Entry<String, String> e : upstreamHeaders) {
      String name = e.getKey().toLowerCase(java.util.Locale.ROOT);
      if (PASSED_RESPONSE_HEADERS.contains(name)) {
        h.add(e.getKey(), e.getValue());
      } else if (name.equals("location") || name.equals("content-location")) {
        h.add(e.getKey(), links.header(e.getValue()));
      }
    }
    if (contentType != null) {
      h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    Responses.standardHeaders(h, body.length, requestId);
    write(response, keepAlive);
    Map<String, Integer> usage = new LinkedHashMap<>();
    for (WindowUsage u : admitted.usage()) {
      usage.put(u.window().name(), u.distinct());
    }
    stages.audit().write(new AuditRecord(AuditRecord.Kind.DECISION, start, requestId, AuditRecord.Outcome.ALLOWED, status,
        principal, allowed.role().name(), allowed.role().mode().code(), raw.method(), request.interaction().code(),
        request.resourceType(), request.operation(), target(), List.copyOf(read.patients()), admitted.newPatients(), usage,
        null, "", notes, breakGlassReason, remoteAddress, traceparent, micros()));
  }

  // endings ---------------------------------------------------------------------------------------

  private void refuse(Refusal refusal, AuditRecord.Outcome outcome, String rule) {
    refuse(refusal, outcome, rule, List.of());
  }

  private void refuse(Refusal refusal, AuditRecord.Outcome outcome, String rule, List<WindowUsage> usage) {
    if (ended) {
      return;
    }
    ended = true;
    exitRate();
    write(Responses.refusal(refusal, format, requestId), keepAlive && !refusal.closeConnection());
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (WindowUsage u : usage) {
      counts.put(u.window().name(), u.distinct());
    }
    stages.audit().write(new AuditRecord(AuditRecord.Kind.DECISION, start, requestId, outcome, refusal.status(), principal,
        allowed != null ? allowed.role().name() : null, allowed != null ? allowed.role().mode().code() : null, raw.method(),
        request != null ? request.interaction().code() : null, request != null ? request.resourceType() : null,
        request != null ? request.operation() : null, target(), List.of(), 0, counts, rule, refusal.diagnostics(),
        allowed != null ? allowed.notes() : List.of(), breakGlassReason, remoteAddress, traceparent, micros()));
  }

  private void write(FullHttpResponse response, boolean keepOpen) {
    var done = Responses.write(ctx, response, keepOpen);
    var writeDeadline = ctx.executor().schedule(() -> {
      if (!done.isDone()) {
        ctx.close();
      }
    }, settings.writeTimeout().toNanos(), TimeUnit.NANOSECONDS);
    done.addListener(f -> {
      writeDeadline.cancel(false);
      if (keepOpen && f.isSuccess()) {
        ctx.channel().pipeline().fireUserEventTriggered(RequestDeadline.EXCHANGE_DONE);
        ctx.channel().config().setAutoRead(true);
        ctx.read();
      }
    });
  }

  private void exitRate() {
    if (rateTicket != null) {
      rateTicket.exit();
    }
  }

  private Refusal throttled(String message, Duration retryAfter) {
    long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    return Refusal.of(429, IssueType.THROTTLED, message).withHeader("Retry-After", Long.toString(seconds));
  }

  private static Refusal storeUnavailable() {
    return Refusal.of(503, IssueType.TRANSIENT, "Patient limits cannot be checked right now; nothing is released until they can")
        .withHeader("Retry-After", "5");
  }

  // plumbing --------------------------------------------------------------------------------------

  /** Runs a stage; an unexpected exception ends the exchange in a refusal, never in a release. */
  private void guarded(Runnable stage) {
    try {
      stage.run();
    } catch (RuntimeException e) {
      LOG.error("request {} failed in a stage", requestId, e);
      refuse(Refusal.of(500, IssueType.EXCEPTION, "Internal error in fhirwall; nothing was released (request " + requestId + ")"),
          AuditRecord.Outcome.FAILED, "internal-error");
    }
  }

  /** Continues on this exchange's event loop with the stage's result, or with its failure. */
  private <T> void onLoop(CompletionStage<T> stage, Consumer<T> next, Consumer<Throwable> failed) {
    stage.whenComplete((value, error) -> {
      Runnable step = () -> guarded(() -> {
        if (error != null) {
          LOG.warn("request {}: asynchronous stage failed: {}", requestId, error.toString());
          failed.accept(error);
        } else {
          next.accept(value);
        }
      });
      if (ctx.executor().inEventLoop()) {
        step.run();
      } else {
        ctx.executor().execute(step);
      }
    });
  }

  private String target() {
    if (request != null && request.interaction() != Interaction.PAGE) {
      try {
        return CanonicalForm.of(request).target();
      } catch (RuntimeException e) {
        return raw.target();
      }
    }
    return pageTarget != null ? pageTarget : raw.target();
  }

  private long micros() {
    return TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos);
  }

  /** What a paging link is bound to: the principal, its session and its client. */
  static String binding(Principal p) {
    return p.issuer() + "\n" + p.subject() + "\n" + (p.sessionId() == null ? "" : p.sessionId()) + "\n" + p.clientId();
  }

  private static String address(SocketAddress a) {
    if (a instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return String.valueOf(a);
  }

  private static String newRequestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
  }
}
