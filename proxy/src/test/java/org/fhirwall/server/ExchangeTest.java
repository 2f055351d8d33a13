package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.bundle;
import static org.fhirwall.server.ExchangeRig.buf;
import static org.fhirwall.server.ExchangeRig.headers;
import static org.fhirwall.server.ExchangeRig.json;
import static org.fhirwall.server.ExchangeRig.patient;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.fhirwall.audit.Alert;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every ending of a request's way, through the real pipeline on an {@link EmbeddedChannel}: the
 * real parser, policy engine, quota store, inspector and responder; a fake authenticator and a
 * fake EPR. Each ending writes exactly one answer and exactly one audit record, and nothing that
 * is refused before the EPR reaches it.
 */
class ExchangeTest {
  static final Instant NOW = ExchangeRig.NOW;
  static final String EPR = ExchangeRig.EPR;

  final List<AuditRecord> audit = new ArrayList<>();
  final List<Alert> alerts = new ArrayList<>();
  final List<UpstreamRequest> reachedEpr = new ArrayList<>();
  Function<UpstreamRequest, UpstreamResult> epr = r -> json(200, patient("p1"));
  /** When set, the fake EPR answers only when the test completes the promise it leaves here. */
  @Nullable List<io.netty.util.concurrent.Promise<UpstreamResult>> deferred;
  final HeldAdmissionStore store = new HeldAdmissionStore(new LocalQuotaStore(100, Runnable::run));
  final InFlight inFlight = new InFlight();
  /** Whether the audit trail takes records (false: a destination fails under {@code audit.on-failure: refuse}). */
  boolean auditAccepting = true;
  EmbeddedChannel channel;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
    store.close();
  }

  // --- the endings --------------------------------------------------------------------------------

  @Test
  void aCallerWithoutATokenGets401BeforeItsBodyIsEvenParsed() {
    // Malformed XML would be a 400 if fhirwall parsed it; unauthenticated, it is never looked at.
    String xml = "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/><entry>" + "<broken>".repeat(200);
    FullHttpResponse r = send("POST /fhir HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/fhir+xml\r\nContent-Length: "
        + xml.length() + "\r\n\r\n" + xml);
    assertThat(r.status().code()).isEqualTo(401);
    assertThat(r.headers().get("WWW-Authenticate")).startsWith("Bearer");
    assertThat(r.headers().get("Connection")).as("the body was drained, the connection serves the next request")
        .isEqualToIgnoringCase("keep-alive");
    assertEnding(r, AuditRecord.Outcome.REFUSED, "authentication");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aTokenOnlyInTheQueryIsNeverSeen() {
    // "good" is a token the authenticator accepts, sent where RFC 6750 allows it and fhirwall does not: in the
    // query, and in a form body. Were either passed on to the authenticator, the request would be answered.
    FullHttpResponse inQuery = send("GET /fhir/Patient/p1?access_token=good HTTP/1.1\r\nHost: proxy\r\n\r\n");
    assertThat(inQuery.status().code()).isEqualTo(401);
    assertThat(inQuery.headers().get("WWW-Authenticate")).isEqualTo("Bearer realm=\"fhirwall\"");
    assertEnding(inQuery, AuditRecord.Outcome.REFUSED, "authentication");
    String form = "access_token=good&_id=p1";
    audit.clear();
    FullHttpResponse inForm = send("POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length() + "\r\n\r\n" + form);
    assertThat(inForm.status().code()).isEqualTo(401);
    assertEnding(inForm, AuditRecord.Outcome.REFUSED, "authentication");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void theSameBodyWithAValidTokenIsParsedAndRefusedForItsForm() {
    String xml = "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/><entry>" + "<broken>".repeat(200);
    FullHttpResponse r = send("POST /fhir HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+xml\r\nContent-Length: " + xml.length() + "\r\n\r\n" + xml);
    assertThat(r.status().code()).isEqualTo(400);
    assertEnding(r, AuditRecord.Outcome.REFUSED, "request-form");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void anAuthenticatorThatFailsIs503() {
    FullHttpResponse r = get("Patient/p1", "boom");
    assertThat(r.status().code()).isEqualTo(503);
    assertThat(r.headers().get("Retry-After")).isEqualTo("5");
    assertEnding(r, AuditRecord.Outcome.FAILED, "authentication-unavailable");
  }

  @Test
  void aChunkedBodyOverTheLimitIs413AndCloses() {
    String chunk = "x".repeat(5000);
    FullHttpResponse r = send("POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n");
    assertThat(r.status().code()).isEqualTo(413);
    assertThat(r.headers().get("Connection")).isEqualToIgnoringCase("close");
    assertEnding(r, AuditRecord.Outcome.REFUSED, "request-body");
  }

  @Test
  void aLockedAccountGets429() {
    store.lock("https://idp|alice", "test", Duration.ofHours(1), NOW);
    FullHttpResponse r = get("Patient/p1", "good");
    assertThat(r.status().code()).isEqualTo(429);
    assertEnding(r, AuditRecord.Outcome.THROTTLED, "locked");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aLockedAccountGets429EvenForARequestThePolicyRefuses() {
    store.lock("https://idp|alice", "test", Duration.ofHours(1), NOW);
    FullHttpResponse r = get("Observation/o1", "good");
    assertThat(r.status().code()).as("the lock's answer, like every other request of the account").isEqualTo(429);
    assertEnding(r, AuditRecord.Outcome.THROTTLED, "locked");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aForgedPagingLinkIs403() {
    FullHttpResponse r = get("?_fwpage=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "good");
    assertThat(r.status().code()).isEqualTo(403);
    assertEnding(r, AuditRecord.Outcome.REFUSED, "page-link");
  }

  @Test
  void aPolicyRefusalIs403WithTheRule() {
    FullHttpResponse r = get("Condition?patient=p1", "good");
    assertThat(r.status().code()).isEqualTo(403);
    assertEnding(r, AuditRecord.Outcome.REFUSED, "resource-types");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aStepUpRefusalIs401WithItsChallenge() {
    FullHttpResponse r = get("Patient/p1", "password-only");
    assertThat(r.status().code()).isEqualTo(401);
    assertThat(r.headers().get("WWW-Authenticate")).contains("insufficient_user_authentication");
    assertEnding(r, AuditRecord.Outcome.REFUSED, "authentication-strength");
  }

  @Test
  void anEprFailureIs504AndNothingIsReleased() {
    epr = req -> new UpstreamResult.Failure(UpstreamResult.Kind.TIMEOUT, "no answer in 60s");
    FullHttpResponse r = get("Patient/p1", "good");
    assertThat(r.status().code()).isEqualTo(504);
    assertEnding(r, AuditRecord.Outcome.FAILED, "upstream");
  }

  @Test
  void anAnswerFhirwallCannotReadIsWithheld() {
    epr = req -> new UpstreamResult.Response(200, headers("text/html"), buf("<html>Patient p1</html>"));
    FullHttpResponse r = get("Patient/p1", "good");
    assertThat(r.status().code()).isEqualTo(502);
    assertThat(body(r)).doesNotContain("p1");
    assertThat(audit).hasSize(1);
    assertThat(audit.get(0).rule()).startsWith("inspect:");
  }

  @Test
  void anAnswerOverTheLimitIs429AndLocks() {
    epr = req -> json(200, bundle("a", "b", "c", "d"));
    FullHttpResponse r = get("Patient?family=Martin", "good");
    assertThat(r.status().code()).isEqualTo(429);
    assertThat(body(r)).doesNotContain("\"Patient\"");
    assertThat(audit).extracting(AuditRecord::kind).containsExactlyInAnyOrder(AuditRecord.Kind.LOCK, AuditRecord.Kind.DECISION);
    assertThat(alerts).extracting(Alert::event).containsExactly("account-locked");
    assertThat(store.lockOf("https://idp|alice", NOW).toCompletableFuture().join()).isPresent();
  }

  @Test
  void aCountFhirwallCannotResolveInOnePageIsRefused() {
    epr = req -> json(200, bundle("a").replace("\"link\":[]",
        "\"link\":[{\"relation\":\"next\",\"url\":\"" + EPR + "?_getpages=x\"}]"));
    FullHttpResponse r = get("Patient?family=Martin&_summary=count", "good");
    assertThat(r.status().code()).isEqualTo(403);
    assertEnding(r, AuditRecord.Outcome.REFUSED, "search-count-unknowable");
    assertThat(reachedEpr.get(0).target()).as("fhirwall asked for the matches, not a count").doesNotContain("_summary")
        .contains("_count=");
  }

  @Test
  void anAllowedReadIsReleasedWithTheEprHiddenAndOneAuditRecord() {
    FullHttpResponse r = get("Patient/p1", "good");
    assertThat(r.status().code()).isEqualTo(200);
    assertThat(body(r)).contains("\"id\":\"p1\"").doesNotContain("epr.internal");
    assertThat(r.headers().get("Cache-Control")).isEqualTo("no-store");
    assertThat(audit).hasSize(1);
    assertThat(audit.get(0).outcome()).isEqualTo(AuditRecord.Outcome.ALLOWED);
    assertThat(audit.get(0).patients()).containsExactly("Patient/p1");
    assertThat(r.headers().get("X-Request-Id")).isEqualTo(audit.get(0).requestId());
    assertThat(reachedEpr.get(0).headers()).anyMatch(h -> h.getKey().equals("X-Forwarded-For"));
  }

  @Test
  void anExceptionInAStageIs500AndNothingIsReleased() {
    FullHttpResponse r = get("Patient/p1", "null-outcome");
    assertThat(r.status().code()).isEqualTo(500);
    assertEnding(r, AuditRecord.Outcome.FAILED, "internal-error");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aBurstOfRefusalsForOnePrincipalRaisesAnAlert() {
    for (int i = 0; i < 4; i++) {
      assertThat(get("Condition?patient=p" + i, "good").status().code()).isEqualTo(403);
    }
    assertThat(alerts).extracting(Alert::event).containsExactly("refusal-burst");
    assertThat(audit).filteredOn(r -> r.kind() == AuditRecord.Kind.ALERT).hasSize(1);
  }

  @Test
  void whileShuttingDownNewRequestsGet503AndTheConnectionCloses() throws Exception {
    assertThat(inFlight.drain(Duration.ZERO)).isTrue();
    FullHttpResponse r = get("Patient/p1", "good");
    assertThat(r.status().code()).isEqualTo(503);
    assertThat(r.headers().get("Connection")).isEqualToIgnoringCase("close");
    assertEnding(r, AuditRecord.Outcome.FAILED, "shutting-down");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void whileTheAuditTrailCannotRecordAndTheDeploymentRefusesRequestsGet503AndNeverReachTheEpr() {
    auditAccepting = false;
    FullHttpResponse r = get("Patient/p1", "good");
    assertThat(r.status().code()).isEqualTo(503);
    assertThat(r.headers().get("Retry-After")).isEqualTo("5");
    assertThat(body(r)).contains("audit trail is unavailable");
    assertEnding(r, AuditRecord.Outcome.FAILED, "audit-unavailable");
    assertThat(reachedEpr).isEmpty();
    auditAccepting = true;
    assertThat(get("Patient/p1", "good").status().code()).as("served again once the trail records").isEqualTo(200);
  }

  @Test
  void overTheRateIs429() {
    assertThat(get("Patient/p1", "good").status().code()).isEqualTo(200);
    FullHttpResponse second = get("Patient/p2", "good");
    assertThat(second.status().code()).isEqualTo(429);
    assertThat(audit.get(1).rule()).isEqualTo("rate");
    assertThat(reachedEpr).hasSize(1);
  }

  // --- the set-up ---------------------------------------------------------------------------------

  @Test
  void pipelinedRequestsAreAnsweredOneAtATimeAndInOrder() {
    deferred = new ArrayList<>();
    String first = "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n";
    String second = "GET /fhir/Patient/p2 HTTP/1.1\r\nHost: proxy\r\n\r\n";
    List<FullHttpResponse> answers = sendAll(first + second, 0);
    assertThat(answers).as("nothing answered while the first request waits for the EPR").isEmpty();
    assertThat(reachedEpr).hasSize(1);
    assertThat(audit).as("the second request is not started before the first is answered").isEmpty();

    deferred.get(0).setSuccess(json(200, patient("p1")));
    answers = sendAll("", 2);
    assertThat(answers).extracting(r -> r.status().code()).containsExactly(200, 401);
    assertThat(audit).extracting(AuditRecord::outcome).containsExactly(AuditRecord.Outcome.ALLOWED, AuditRecord.Outcome.REFUSED);
    assertThat(channel.isOpen()).isTrue();
  }

  /**
   * A request the edge refuses (its framing cannot be trusted) pipelined behind one the EPR is still answering: the
   * refusal was written at once, so the client read a 400 as the answer to its first request (answers out of order,
   * RFC 9112 section 9.3.2) and the connection closed before the first answer could be written. Its refusal now
   * waits its turn.
   */
  @Test
  void aMalformedRequestPipelinedBehindOneAtTheEprIsRefusedAfterItsAnswer() {
    deferred = new ArrayList<>();
    String first = "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n";
    String bad = "GET /fhir/Patient/p2 HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc";
    assertThat(sendAll(first + bad, 0)).as("nothing answered while the first request waits for the EPR").isEmpty();
    assertThat(channel.isOpen()).isTrue();

    deferred.get(0).setSuccess(json(200, patient("p1")));
    List<FullHttpResponse> answers = sendAll("", 2);
    assertThat(answers).extracting(r -> r.status().code()).containsExactly(200, 400);
    assertThat(body(answers.get(0))).contains("\"id\":\"p1\"");
    assertThat(body(answers.get(1))).contains("\"resourceType\":\"OperationOutcome\"", "Content-Length");
    assertThat(answers.get(1).headers().get("Connection")).isEqualToIgnoringCase("close");
    assertThat(channel.isOpen()).isFalse();
    assertThat(reachedEpr).as("the refused request never reaches the EPR").hasSize(1);
  }

  /** The same behind two requests (the second held whole, answered 401), for a body that breaks after its head. */
  @Test
  void aRequestWhoseBodyBreaksBehindPipelinedOnesIsRefusedAfterTheirAnswers() {
    deferred = new ArrayList<>();
    String first = "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n";
    String second = "GET /fhir/Patient/p2 HTTP/1.1\r\nHost: proxy\r\n\r\n";
    String broken = "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n";
    assertThat(sendAll(first + second + broken, 0)).isEmpty();
    assertThat(channel.isOpen()).isTrue();

    deferred.get(0).setSuccess(json(200, patient("p1")));
    List<FullHttpResponse> answers = sendAll("", 3);
    assertThat(answers).extracting(r -> r.status().code()).containsExactly(200, 401, 400);
    assertThat(body(answers.get(0))).contains("\"id\":\"p1\"");
    assertThat(body(answers.get(2))).contains("\"resourceType\":\"OperationOutcome\"");
    assertThat(answers.get(2).headers().get("Connection")).isEqualToIgnoringCase("close");
    assertThat(channel.isOpen()).isFalse();
    assertThat(reachedEpr).hasSize(1);
    assertThat(audit).as("the two answered; the refused one never started").extracting(AuditRecord::status)
        .containsExactly(200, 401);
  }

  /**
   * More requests pipelined behind one at the EPR than the HTTP codec holds unanswered: the codec can no longer match
   * answers to requests and closes the connection after the next answer it writes. That answer is the first request's
   * (before, the refusal was written at once and read as the first request's answer); the rest are never started.
   */
  @Test
  void moreRequestsPipelinedThanTheCodecHoldsGetTheFirstAnswerThenTheConnectionCloses() {
    deferred = new ArrayList<>();
    String first = "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n";
    String anonymous = "GET /fhir/Patient/p2 HTTP/1.1\r\nHost: proxy\r\n\r\n";
    assertThat(sendAll(first + anonymous.repeat(FhirwallChannelInitializer.MAX_PIPELINED + 5), 0)).isEmpty();
    assertThat(channel.isOpen()).isTrue();

    deferred.get(0).setSuccess(json(200, patient("p1")));
    List<FullHttpResponse> answers = sendAll("", 1);
    assertThat(answers.get(0).status().code()).isEqualTo(200);
    assertThat(body(answers.get(0))).contains("\"id\":\"p1\"");
    assertThat(channel.isOpen()).isFalse();
    assertThat(reachedEpr).hasSize(1);
    assertThat(audit).as("only the first request ran").hasSize(1);
  }

  @Test
  void aRequestOnAKeptAliveConnectionAfterAnAnswerIsServed() {
    assertThat(get("Patient/p1", "good").status().code()).isEqualTo(200);
    assertThat(send("GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\n\r\n").status().code()).isEqualTo(401);
    assertThat(audit).hasSize(2);
  }

  // --- a read sent ahead of its admission (a store that foresees it, as the Redis store does) --------

  @Test
  void aReadSentAheadIsReadWhileItsAdmissionIsOnItsWayAndGoesOnOnlyOnceAdmitted() {
    List<ByteBuf> answers = eprAnswersKept(patient("p1"));
    store.gate = new CompletableFuture<>();
    FullHttpResponse r = get("Patient/p1", () -> {
      assertThat(reachedEpr).as("sent ahead of its admission").hasSize(1);
      assertThat(channel.outboundMessages()).as("nothing answered before the admission").isEmpty();
      assertThat(audit).isEmpty();
      assertThat(answers.get(0).refCnt()).as("the answer was copied out and read while the admission was on its way")
          .isZero();
      store.gate.complete(null);
    });
    assertThat(r.status().code()).isEqualTo(200);
    assertThat(body(r)).contains("\"id\":\"p1\"");
    assertThat(audit).singleElement().satisfies(a -> {
      assertThat(a.outcome()).isEqualTo(AuditRecord.Outcome.ALLOWED);
      assertThat(a.patients()).containsExactly("Patient/p1");
    });
  }

  @Test
  void aReadSentAheadAndReadEarlyIsNeverShownWhenALockRefusesItsAdmission() {
    List<ByteBuf> answers = eprAnswersKept(patient("p1"));
    store.gate = new CompletableFuture<>();
    FullHttpResponse r = get("Patient/p1", () -> {
      assertThat(answers.get(0).refCnt()).as("read early").isZero();
      store.lock("https://idp|alice", "set on another replica", Duration.ofHours(1), NOW).toCompletableFuture().join();
      store.gate.complete(null);
    });
    assertThat(r.status().code()).isEqualTo(429);
    assertThat(body(r)).doesNotContain("p1").contains("OperationOutcome");
    assertThat(audit).singleElement().satisfies(a -> {
      assertThat(a.rule()).isEqualTo("locked");
      assertThat(a.patients()).isEmpty();
    });
  }

  @Test
  void anAnswerSentAheadThatComesAfterItsRefusalIsGivenBack() {
    List<ByteBuf> answers = eprAnswersKept(patient("p1"));
    deferred = new ArrayList<>();
    store.gate = new CompletableFuture<>();
    FullHttpResponse r = get("Patient/p1", () -> {
      store.lock("https://idp|alice", "set on another replica", Duration.ofHours(1), NOW).toCompletableFuture().join();
      store.gate.complete(null);
    });
    assertThat(r.status().code()).isEqualTo(429);
    deferred.get(0).setSuccess(epr.apply(reachedEpr.get(0)));
    channel.runPendingTasks();
    assertThat(answers.get(0).refCnt()).as("the late answer's buffer was given back").isZero();
    assertThat(channel.outboundMessages()).as("and nothing more was written").isEmpty();
  }

  @Test
  void anAnswerSentAheadTooLargeForTheLoopWaitsForTheAdmissionWhole() {
    String large = patient("p1").replace("\"meta\"", "\"text\":{\"status\":\"generated\",\"div\":\"<div>"
        + "x".repeat((1 << 20) + 10) + "</div>\"},\"meta\"");
    List<ByteBuf> answers = eprAnswersKept(large);
    store.gate = new CompletableFuture<>();
    FullHttpResponse r = get("Patient/p1", () -> {
      assertThat(answers.get(0).refCnt()).as("over the inline size: not read on the loop before the admission").isOne();
      store.gate.complete(null);
    });
    assertThat(r.status().code()).isEqualTo(200);
    assertThat(answers.get(0).refCnt()).isZero();
    assertThat(audit).singleElement().satisfies(a -> assertThat(a.patients()).containsExactly("Patient/p1"));
  }

  /** The fake EPR answers {@code json}; the buffers it hands over are kept, to see when they are given back. */
  private List<ByteBuf> eprAnswersKept(String json) {
    List<ByteBuf> kept = new ArrayList<>();
    epr = req -> {
      ByteBuf b = buf(json);
      kept.add(b);
      return new UpstreamResult.Response(200, headers("application/fhir+json"), b);
    };
    return kept;
  }

  private void assertEnding(FullHttpResponse r, AuditRecord.Outcome outcome, String rule) {
    assertThat(body(r)).contains("\"resourceType\":\"OperationOutcome\"");
    assertThat(audit).as("exactly one audit record").hasSize(1);
    assertThat(audit.get(0).outcome()).isEqualTo(outcome);
    assertThat(audit.get(0).rule()).isEqualTo(rule);
    assertThat(audit.get(0).status()).isEqualTo(r.status().code());
    assertThat(r.headers().get("X-Request-Id")).isEqualTo(audit.get(0).requestId());
  }

  private FullHttpResponse get(String target, String token) {
    return send("GET /fhir/" + target + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + token + "\r\n\r\n");
  }

  /** A GET whose answer is read only after {@code meanwhile} ran (e.g. while its admission is held). */
  private FullHttpResponse get(String target, Runnable meanwhile) {
    return send("GET /fhir/" + target + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n", meanwhile);
  }

  /** Writes the bytes in, then decodes every answer written so far (expecting {@code count}). */
  private List<FullHttpResponse> sendAll(String wire, int count) {
    return ExchangeRig.answers(channel(), wire, () -> {}, count);
  }

  private FullHttpResponse send(String wire) {
    return send(wire, () -> {});
  }

  private FullHttpResponse send(String wire, Runnable meanwhile) {
    return ExchangeRig.answers(channel(), wire, meanwhile, 1).get(0);
  }

  private EmbeddedChannel channel() {
    if (channel == null) {
      channel = ExchangeRig.channel(stages(), fakeEpr(), inFlight);
    }
    return channel;
  }

  private Stages stages() {
    return ExchangeRig.stages("""
        role: ward
        applies-to: {roles: [ward]}
        authentication: {amr: [otp]}
        interactions: [read, search-type]
        resource-types: [Patient]
        patient-limits: [{window: 1h, max: 3}]
        at-limit: {action: lock, lock-for: 1h, alert: true}
        search: {max-count: 3}
        batch: {max-entries: 3}
        rate: {requests-per-second: 0.001, burst: 1, concurrent: 4}
        """, fakeIdp(), store, new ExchangeRig.Sinks(audit::add, () -> auditAccepting, alerts::add, 3));
  }

  private static Authenticator fakeIdp() {
    return (header, now) -> {
      String token = header == null ? "" : header.replace("Bearer ", "");
      return switch (token) {
        case "good" -> CompletableFuture.completedFuture(new AuthOutcome.Authenticated(alice(Set.of("pwd", "otp"))));
        case "password-only" -> CompletableFuture.completedFuture(new AuthOutcome.Authenticated(alice(Set.of("pwd"))));
        case "boom" -> CompletableFuture.failedFuture(new IllegalStateException("IdP down"));
        case "null-outcome" -> CompletableFuture.completedFuture(null);
        default -> CompletableFuture.completedFuture(new AuthOutcome.Refused(new Refusal(401, IssueType.LOGIN,
            "no token", Map.of("WWW-Authenticate", "Bearer realm=\"fhirwall\""), false)));
      };
    };
  }

  private static Principal alice(Set<String> amr) {
    return new Principal(Principal.Kind.USER, "https://idp", "alice", "alice", "web", Set.of("ward"), null, amr, NOW,
        "sid-1", Set.of(), null, NOW.plusSeconds(600), "jti-1");
  }

  private Upstream fakeEpr() {
    return new Upstream() {
      @Override
      public Future<UpstreamResult> send(EventLoop loop, UpstreamRequest request) {
        reachedEpr.add(request);
        io.netty.util.concurrent.Promise<UpstreamResult> answer = loop.newPromise();
        if (deferred != null) {
          deferred.add(answer);
          return answer;
        }
        return answer.setSuccess(epr.apply(request));
      }
    };
  }
}
