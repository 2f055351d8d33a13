package org.fhirwall.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.buf;
import static org.fhirwall.server.ExchangeRig.headers;
import static org.fhirwall.server.ExchangeRig.json;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A bulk export belongs to the service account that kicked it off: its status and its files are
 * refused (403, {@code export-not-yours}) to every other principal, even one of the same role, and
 * served to the owner as before. Through the real pipeline on an {@link EmbeddedChannel} (real
 * parser, policy, store, inspector, responder), a fake EPR that runs one export ({@code job-1},
 * files {@code file-1} and {@code err-1}) and holds one Binary no export made ({@code doc-1}).
 */
class ExportOwnershipExchangeTest {
  static final Instant NOW = ExchangeRig.NOW;
  static final String EPR = ExchangeRig.EPR;
  static final String PUBLIC = ExchangeRig.PUBLIC;
  static final String OWNER = "warehouse";
  static final String OTHER = "other-warehouse";
  static final String NDJSON = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n";

  final List<AuditRecord> audit = new ArrayList<>();
  final List<UpstreamRequest> reachedEpr = new ArrayList<>();
  final HeldAdmissionStore store = new HeldAdmissionStore(new LocalQuotaStore(100, Runnable::run));
  final InFlight inFlight = new InFlight();
  EmbeddedChannel channel;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
    store.close();
  }

  // --- the owner -------------------------------------------------------------------------------------

  @Test
  void theAccountThatKickedOffAnExportPollsItAndReadsItsFilesAndTheAuditSaysWhatWasBound() {
    FullHttpResponse kickOff = kickOff(OWNER);
    assertThat(kickOff.status().code()).isEqualTo(202);
    assertThat(kickOff.headers().get("Content-Location")).isEqualTo(PUBLIC + "/$export-poll-status?_jobId=job-1");
    assertThat(audit.get(0).notes()).anySatisfy(n -> assertThat(n).contains("bulk export").contains("bound"));

    FullHttpResponse manifest = get("$export-poll-status?_jobId=job-1", OWNER);
    assertThat(manifest.status().code()).isEqualTo(200);
    assertThat(body(manifest)).contains(PUBLIC + "/Binary/file-1").doesNotContain("epr.internal");
    assertThat(audit.get(1).notes()).anySatisfy(n -> assertThat(n).contains("bulk export").contains("2 file"));

    FullHttpResponse file = getNdjson("Binary/file-1", OWNER);
    assertThat(file.status().code()).isEqualTo(200);
    assertThat(body(file)).isEqualTo(NDJSON);
    assertThat(audit.get(2).patients()).containsExactly("Patient/p1");
    assertThat(get("Binary/err-1", OWNER).status().code()).isEqualTo(200);
  }

  // --- another account of the same role ------------------------------------------------------------

  @Test
  void anotherServiceAccountOfTheSameRoleCannotPollTheJob() {
    kickOff(OWNER);
    int before = reachedEpr.size();
    FullHttpResponse poll = get("$export-poll-status?_jobId=job-1", OTHER);
    assertRefused(poll, 403, "export-not-yours");
    assertThat(reachedEpr).as("the EPR never hears of it").hasSize(before);
    assertThat(body(poll)).doesNotContain("file-1");
    assertThat(get("$export-poll-status?_jobId=job-1", OWNER).status().code()).as("the owner still polls it").isEqualTo(200);
  }

  @Test
  void anotherServiceAccountCannotReadTheFilesInAnyShape() {
    kickOff(OWNER);
    get("$export-poll-status?_jobId=job-1", OWNER);
    int before = reachedEpr.size();
    assertRefused(getNdjson("Binary/file-1", OTHER), 403, "export-not-yours");
    assertRefused(get("Binary/file-1", OTHER), 403, "export-not-yours");
    assertRefused(get("Binary/err-1", OTHER), 403, "export-not-yours");
    assertThat(reachedEpr).as("a read of a bound file is refused before the EPR").hasSize(before);
    FullHttpResponse search = get("Binary?_id=file-1", OTHER);
    assertRefused(search, 403, "export-not-yours");
    assertThat(body(search)).doesNotContain(Base64.getEncoder().encodeToString(NDJSON.getBytes(UTF_8)));
    assertThat(audit).filteredOn(a -> a.kind() == AuditRecord.Kind.DECISION && "export-not-yours".equals(a.rule()))
        .hasSize(4).allSatisfy(a -> assertThat(a.patients()).as("nothing released, nothing charged").isEmpty());
  }

  @Test
  void aPollOfAJobFhirwallDidNotRelayIsRefused() {
    FullHttpResponse poll = get("$export-poll-status?_jobId=job-1", OWNER);
    assertRefused(poll, 403, "export-not-yours");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aPollNamingTwoJobsOrNoneIsRefused() {
    kickOff(OWNER);
    int before = reachedEpr.size();
    assertRefused(get("$export-poll-status?_jobId=job-1&_jobId=job-2", OWNER), 403, "export-not-yours");
    assertRefused(get("$export-poll-status", OWNER), 403, "export-not-yours");
    String parameters = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_jobId\",\"valueString\":\"job-1\"}]}";
    assertRefused(send(request("POST", "$export-poll-status", OTHER, parameters)), 403, "export-not-yours");
    assertThat(reachedEpr).hasSize(before);
  }

  // --- cancelling a job (DELETE of its status URL) ------------------------------------------------

  @Test
  void theOwnerCancelsItsJobAndLaterPollsRelayTheEprSayingItIsGone() {
    kickOff(OWNER);
    FullHttpResponse cancel = cancel("$export-poll-status?_jobId=job-1", OWNER);
    assertThat(cancel.status().code()).as(body(cancel)).isEqualTo(202);
    assertThat(body(cancel)).contains("\"resourceType\":\"OperationOutcome\"").contains("cancelled");
    UpstreamRequest heard = reachedEpr.get(reachedEpr.size() - 1);
    assertThat(heard.method()).isEqualTo("DELETE");
    assertThat(heard.target()).isEqualTo("$export-poll-status?_jobId=job-1");
    assertThat(heard.body()).isEmpty();
    AuditRecord record = audit.get(audit.size() - 1);
    assertThat(record.outcome()).isEqualTo(AuditRecord.Outcome.ALLOWED);
    assertThat(record.status()).isEqualTo(202);
    assertThat(record.method()).isEqualTo("DELETE");
    assertThat(record.notes()).anySatisfy(n -> assertThat(n).contains("bulk export").contains("cancel").contains("job-1"));
    assertThat(record.patients()).as("nothing disclosed").isEmpty();
    assertThat(record.newPatients()).as("nothing charged").isZero();

    FullHttpResponse poll = get("$export-poll-status?_jobId=job-1", OWNER);
    assertThat(poll.status().code()).as("the EPR's answer: the job is gone").isEqualTo(404);
    assertThat(reachedEpr.get(reachedEpr.size() - 1).method()).isEqualTo("GET");
    assertThat(cancel("$export-poll-status?_jobId=job-1", OWNER).status().code()).as("a second cancel: the EPR's 404")
        .isEqualTo(404);
    assertThat(store.ownerOf("export-job:job-1", NOW).toCompletableFuture().join()).as("the binding stays till it expires")
        .contains("https://idp|" + OWNER);
  }

  @Test
  void anotherAccountCannotCancelTheJobAndIsToldWhatAForeignPollIsTold() {
    kickOff(OWNER);
    int before = reachedEpr.size();
    FullHttpResponse poll = get("$export-poll-status?_jobId=job-1", OTHER);
    FullHttpResponse cancel = cancel("$export-poll-status?_jobId=job-1", OTHER);
    assertRefused(cancel, 403, "export-not-yours");
    assertThat(withoutRequestId(cancel)).isEqualTo(withoutRequestId(poll));
    assertThat(reachedEpr).as("the EPR never hears of it").hasSize(before);
    assertThat(audit.get(audit.size() - 1).notes()).anySatisfy(n -> assertThat(n).contains("cancel"));
    assertThat(get("$export-poll-status?_jobId=job-1", OWNER).status().code()).as("the owner's job runs on").isEqualTo(200);
  }

  @Test
  void aCancelOfAJobFhirwallDidNotRelayOrNamingTwoJobsOrNoneIsRefused() {
    assertRefused(cancel("$export-poll-status?_jobId=job-1", OWNER), 403, "export-not-yours");
    kickOff(OWNER);
    int before = reachedEpr.size();
    assertRefused(cancel("$export-poll-status?_jobId=job-2", OWNER), 403, "export-not-yours");
    assertRefused(cancel("$export-poll-status?_jobId=job-1&_jobId=job-2", OWNER), 403, "export-not-yours");
    assertRefused(cancel("$export-poll-status", OWNER), 403, "export-not-yours");
    assertThat(reachedEpr).hasSize(before);
    assertThat(send(request("DELETE", "$export-poll-status?_jobId=job-1", OWNER, "{\"resourceType\":\"Parameters\"}"))
        .status().code()).as("a DELETE carries no body (as a GET poll: refused as it stands)").isEqualTo(400);
    assertThat(reachedEpr).hasSize(before);
  }

  @Test
  void aCancelIsRefused503WhileTheStoreCannotSayWhoseJobItIs() {
    kickOff(OWNER);
    int before = reachedEpr.size();
    store.bindingsFail = true;
    assertRefused(cancel("$export-poll-status?_jobId=job-1", OWNER), 503, "quota-store");
    assertThat(reachedEpr).hasSize(before);
  }

  @Test
  void aCancelWaitsForItsAdmissionAndALockMeanwhileKeepsItFromTheEpr() {
    kickOff(OWNER);
    int before = reachedEpr.size();
    store.gate = new CompletableFuture<>();
    FullHttpResponse cancel = ExchangeRig.answers(channel, request("DELETE", "$export-poll-status?_jobId=job-1", OWNER, null),
        () -> {
          assertThat(reachedEpr).as("not sent ahead of its admission").hasSize(before);
          store.lock("https://idp|" + OWNER, "set on another replica", Duration.ofHours(1), NOW).toCompletableFuture().join();
          store.gate.complete(null);
        }, 1).get(0);
    assertRefused(cancel, 429, "locked");
    assertThat(reachedEpr).hasSize(before);
    assertThat(epr.cancelled).isFalse();
  }

  @Test
  void aBinaryNoExportMadeIsReadAsBefore() {
    kickOff(OWNER);
    get("$export-poll-status?_jobId=job-1", OWNER);
    assertThat(get("Binary/doc-1", OTHER).status().code()).isEqualTo(200);
    assertThat(get("Binary/doc-1", OWNER).status().code()).isEqualTo(200);
  }

  // --- what cannot be bound, and a store that cannot answer ----------------------------------------

  @Test
  void aManifestNamingAFileBoundToAnotherAccountIsWithheld() {
    store.bind("export-file:err-1", "https://idp|" + OTHER, Duration.ofHours(24), NOW).toCompletableFuture().join();
    kickOff(OWNER);
    FullHttpResponse manifest = get("$export-poll-status?_jobId=job-1", OWNER);
    assertRefused(manifest, 403, "export-not-yours");
    assertThat(body(manifest)).doesNotContain("file-1");
    assertThat(store.ownerOf("export-file:err-1", NOW).toCompletableFuture().join()).as("left as it was")
        .contains("https://idp|" + OTHER);
  }

  @Test
  void aKickOffWhoseStatusUrlFhirwallCannotBindIsWithheld() {
    statusUrl = EPR + "/bulkstatus/job-1";
    FullHttpResponse kickOff = kickOff(OWNER);
    assertRefused(kickOff, 502, "export-binding");
    assertThat(kickOff.headers().get("Content-Location")).isNull();
  }

  @Test
  void aPollIsRefused503WhileTheStoreCannotSayWhoseJobItIs() {
    kickOff(OWNER);
    store.bindingsFail = true;
    assertRefused(get("$export-poll-status?_jobId=job-1", OWNER), 503, "quota-store");
    assertRefused(get("Binary/file-1", OWNER), 503, "quota-store");
  }

  @Test
  void aKickOffIsWithheld503WhenItsJobCannotBeBound() {
    store.bindingsFail = true;
    FullHttpResponse kickOff = kickOff(OWNER);
    assertRefused(kickOff, 503, "quota-store");
    assertThat(kickOff.headers().get("Content-Location")).isNull();
  }

  // --- the set-up ----------------------------------------------------------------------------------

  /** The status URL the fake EPR's kick-off answers with. */
  String statusUrl = EPR + "/$export-poll-status?_jobId=job-1";

  /** The fake EPR's state: whether job-1 was cancelled (then it is gone: 404). */
  final EprState epr = new EprState();

  static final class EprState {
    boolean cancelled;
  }

  private UpstreamResult epr(UpstreamRequest r) {
    String t = r.target();
    if (t.equals("$export-poll-status?_jobId=job-1") && (epr.cancelled || r.method().equals("DELETE"))) {
      if (epr.cancelled) {
        return json(404, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"not-found\","
            + "\"diagnostics\":\"no job job-1\"}]}");
      }
      epr.cancelled = true;
      return json(202, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"information\","
          + "\"code\":\"informational\",\"diagnostics\":\"job-1 cancelled\"}]}");
    }
    if (t.startsWith("$export?")) {
      DefaultHttpHeaders h = headers("application/fhir+json");
      h.set("Content-Location", statusUrl);
      return new UpstreamResult.Response(202, h, buf("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
          + "\"information\",\"code\":\"informational\",\"diagnostics\":\"accepted\"}]}"));
    }
    if (t.equals("$export-poll-status?_jobId=job-1")) {
      return new UpstreamResult.Response(200, headers("application/json"), buf("{\"transactionTime\":\"2026-12-06T09:59:00Z\","
          + "\"request\":\"" + EPR + "/$export?_type=Patient\",\"requiresAccessToken\":true,"
          + "\"output\":[{\"type\":\"Patient\",\"url\":\"" + EPR + "/Binary/file-1\",\"count\":1}],"
          + "\"error\":[{\"type\":\"OperationOutcome\",\"url\":\"" + EPR + "/Binary/err-1\"}]}"));
    }
    if (t.startsWith("Binary/")) {
      return json(200, binary(t.substring("Binary/".length())));
    }
    if (t.startsWith("Binary?")) {
      return json(200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"fullUrl\":\"" + EPR
          + "/Binary/file-1\",\"resource\":" + binary("file-1") + "}]}");
    }
    return json(404, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"not-found\"}]}");
  }

  private static String binary(String id) {
    return "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"application/fhir+ndjson\",\"data\":\""
        + Base64.getEncoder().encodeToString(NDJSON.getBytes(UTF_8)) + "\"}";
  }

  private FullHttpResponse kickOff(String who) {
    return send("GET /fhir/$export?_type=Patient HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + who
        + "\r\nPrefer: respond-async\r\n\r\n");
  }

  private FullHttpResponse get(String target, String who) {
    return send(request("GET", target, who, null));
  }

  private FullHttpResponse cancel(String target, String who) {
    return send(request("DELETE", target, who, null));
  }

  /** The answer's body and status, its request id (different for each request) left out. */
  private static String withoutRequestId(FullHttpResponse r) {
    String id = r.headers().get("X-Request-Id");
    return r.status().code() + " " + (id == null ? body(r) : body(r).replace(id, "ID"));
  }

  private FullHttpResponse getNdjson(String target, String who) {
    return send("GET /fhir/" + target + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + who
        + "\r\nAccept: application/fhir+ndjson\r\n\r\n");
  }

  private static String request(String method, String target, String who, String body) {
    String head = method + " /fhir/" + target + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + who + "\r\n";
    if (body == null) {
      return head + "\r\n";
    }
    return head + "Content-Type: application/fhir+json\r\nContent-Length: " + body.getBytes(UTF_8).length + "\r\n\r\n" + body;
  }

  private void assertRefused(FullHttpResponse r, int status, String rule) {
    assertThat(r.status().code()).as(body(r)).isEqualTo(status);
    assertThat(body(r)).contains("\"resourceType\":\"OperationOutcome\"");
    AuditRecord last = audit.get(audit.size() - 1);
    assertThat(last.rule()).startsWith(rule);
    assertThat(last.status()).isEqualTo(status);
    assertThat(r.headers().get("X-Request-Id")).isEqualTo(last.requestId());
  }

  private FullHttpResponse send(String wire) {
    if (channel == null) {
      channel = ExchangeRig.channel(stages(), ExchangeRig.epr(reachedEpr, this::epr), inFlight);
    }
    return ExchangeRig.answers(channel, wire, () -> {}, 1).get(0);
  }

  private Stages stages() {
    // the shipped research-export role's grants, with room for a test's requests
    return ExchangeRig.stages("""
        role: export
        applies-to: {roles: [bulk-export], principal: service}
        interactions: [read, search-type, operation-system, operation-type, operation-instance]
        resource-types: [Patient, Observation, Binary]
        operations: [export, export-poll-status]
        patient-limits: [{window: 24h, max: 100}]
        search: {max-count: 50, unselective: cap, require-patient-criterion: false}
        rate: {requests-per-second: 100, burst: 100, concurrent: 4}
        """, fakeIdp(), store, new ExchangeRig.Sinks(audit::add, () -> true, alert -> { }, 100));
  }

  /** Two service accounts of the same role, {@link #OWNER} and {@link #OTHER}: the token is the subject. */
  private static Authenticator fakeIdp() {
    return (header, now) -> {
      String token = header == null ? "" : header.replace("Bearer ", "");
      if (token.equals(OWNER) || token.equals(OTHER)) {
        return CompletableFuture.completedFuture(new AuthOutcome.Authenticated(new Principal(Principal.Kind.SERVICE,
            "https://idp", token, "service-account-" + token, token, Set.of("bulk-export"), null, Set.of(), null, null,
            Set.of(), null, NOW.plusSeconds(600), "jti-" + token)));
      }
      CompletionStage<AuthOutcome> refused = CompletableFuture.completedFuture(new AuthOutcome.Refused(new Refusal(401,
          IssueType.LOGIN, "no token", Map.of("WWW-Authenticate", "Bearer realm=\"fhirwall\""), false)));
      return refused;
    };
  }
}
