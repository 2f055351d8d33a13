package org.fhirwall.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.bundle;
import static org.fhirwall.server.ExchangeRig.json;
import static org.fhirwall.server.ExchangeRig.patient;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.Test;

/**
 * Requests pipelined on one connection, in random mixes (reads, form and chunked searches, refusals by policy and by
 * the request's form, a request the edge refuses last), written in random pieces, with the EPR answering some at
 * once and some later: every request is answered once, in the order sent, with its own answer (HTTP/1.1 pipelining,
 * RFC 9112 section 9.3.2); a refusal is an OperationOutcome; one the edge refuses is the last answer and closes the
 * connection; nothing it refuses reaches the EPR. Seeded: a failure names its seed.
 */
class PipeliningOrderTest {
  static final String ROLE = """
      role: ward
      applies-to: {roles: [ward]}
      authentication: {amr: [otp]}
      interactions: [read, search-type]
      resource-types: [Patient]
      patient-limits: [{window: 1h, max: 10000}]
      search: {max-count: 50, unselective: refuse}
      rate: {requests-per-second: 10000, burst: 10000, concurrent: 4}
      """;

  /** One request of a mix: its bytes and what it must be answered. */
  record Sent(String wire, int status, String patient) {}

  static Sent read(int i) {
    return new Sent("GET /fhir/Patient/p" + i + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\n\r\n", 200, "p" + i);
  }

  static Sent formSearch(int i) {
    String form = "_id=p" + i;
    return new Sent("POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length() + "\r\n\r\n" + form, 200, "p" + i);
  }

  static Sent chunkedSearch(int i) {
    String form = "_id=p" + i;
    return new Sent("POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(form.length()) + "\r\n" + form + "\r\n0\r\n\r\n", 200, "p" + i);
  }

  static Sent deniedType() {
    return new Sent("GET /fhir/Encounter/e1 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\n\r\n", 403, null);
  }

  static Sent notCanonical() {
    return new Sent("GET /fhir/Patient/p1/../p2 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\n\r\n", 400, null);
  }

  static final List<String> EDGE_REFUSED = List.of(
      "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
      "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nHost: other\r\n\r\n",
      "GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nX-Note: a\r\n b\r\n\r\n",
      "POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
      "GET /fhir/Patient/p1 HTTP/1.2\r\nHost: proxy\r\n\r\n");

  @Test
  void pipelinedMixesAreAnsweredOnceEachInOrder() {
    for (long seed = 1; seed <= 300; seed++) {
      mix(seed, false);
    }
  }

  /**
   * The same with admissions decided later, as the Redis store's are: reads go to the EPR before their admission
   * ({@link HeldAdmissionStore}), admissions and EPR answers complete in random order.
   */
  @Test
  void pipelinedMixesWithAdmissionsDecidedLaterAreAnsweredOnceEachInOrder() {
    for (long seed = 1; seed <= 300; seed++) {
      mix(seed, true);
    }
    assertThat(admissionsWaited).as("admissions that waited for their gate (reads sent ahead of them)").isGreaterThan(100);
  }

  /** Gates completed while an admission waited on them. */
  private int admissionsWaited;

  private void mix(long seed, boolean admissionsLater) {
    Random random = new Random(seed);
    List<Sent> sent = new ArrayList<>();
    int n = 1 + random.nextInt(6);
    for (int k = 0; k < n; k++) {
      int i = random.nextInt(5) + 1;
      sent.add(switch (random.nextInt(5)) {
        case 0 -> read(i);
        case 1 -> formSearch(i);
        case 2 -> chunkedSearch(i);
        case 3 -> deniedType();
        default -> notCanonical();
      });
    }
    boolean edge = random.nextInt(3) == 0;
    StringBuilder wire = new StringBuilder();
    sent.forEach(s -> wire.append(s.wire()));
    if (edge) {
      wire.append(EDGE_REFUSED.get(random.nextInt(EDGE_REFUSED.size())));
    }

    List<AuditRecord> audit = new ArrayList<>();
    List<UpstreamRequest> reached = new ArrayList<>();
    ArrayDeque<Promise<UpstreamResult>> later = new ArrayDeque<>();
    ArrayDeque<UpstreamResult> answersLater = new ArrayDeque<>();
    Upstream epr = new Upstream() {
      @Override
      public Future<UpstreamResult> send(EventLoop loop, UpstreamRequest request) {
        reached.add(request);
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("(?:_id=|Patient/)(p\\d+)")
            .matcher(request.target() + " " + new String(request.body(), UTF_8));
        assertThat(id.find()).as(request.target()).isTrue();
        boolean search = request.target().startsWith("Patient?") || request.target().startsWith("Patient/_search");
        UpstreamResult answer = search ? json(200, bundle(id.group(1))) : json(200, patient(id.group(1)));
        Promise<UpstreamResult> p = loop.newPromise();
        if (random.nextBoolean()) {
          return p.setSuccess(answer);
        }
        later.add(p);
        answersLater.add(answer);
        return p;
      }
    };
    List<CompletableFuture<Void>> gates = new ArrayList<>();
    try (HeldAdmissionStore store = new HeldAdmissionStore(new LocalQuotaStore(100, Runnable::run))) {
      EmbeddedChannel channel = ExchangeRig.channel(ExchangeRig.stages(ROLE, ExchangeRig.wardClinician(), store,
          new ExchangeRig.Sinks(audit::add, () -> true, a -> { }, 100)), epr, new InFlight());
      try {
        byte[] bytes = wire.toString().getBytes(UTF_8);
        for (int at = 0; at < bytes.length && channel.isOpen(); ) { // a client stops writing once fhirwall closes
          int piece = Math.min(bytes.length - at, 1 + random.nextInt(random.nextBoolean() ? 8 : 400));
          if (admissionsLater) { // the admissions asked while this piece is read wait for a gate, or not
            store.gate = random.nextInt(3) == 0 ? null : new CompletableFuture<>();
            if (store.gate != null) {
              gates.add(store.gate);
            }
          }
          channel.writeInbound(Unpooled.wrappedBuffer(bytes, at, piece));
          at += piece;
          settle(channel);
        }
        store.gate = null;
        for (int round = 0; round < 200 && (!later.isEmpty() || channel.hasPendingTasks() || gates.stream().anyMatch(g -> !g.isDone())); round++) {
          settle(channel);
          java.util.Optional<CompletableFuture<Void>> gate = gates.stream().filter(g -> !g.isDone()).findFirst();
          if (gate.isPresent() && (later.isEmpty() || random.nextBoolean())) {
            admissionsWaited += gate.get().getNumberOfDependents() > 0 ? 1 : 0;
            gate.get().complete(null);
          } else if (!later.isEmpty()) {
            later.poll().setSuccess(answersLater.poll());
          }
        }
        settle(channel);
        List<FullHttpResponse> answers = ExchangeRig.written(channel, sent.size() + 1);
        String context = "seed " + seed + ", wire:\n" + wire;
        assertThat(answers).as(context).hasSize(sent.size() + (edge ? 1 : 0));
        for (int k = 0; k < sent.size(); k++) {
          FullHttpResponse r = answers.get(k);
          Sent s = sent.get(k);
          assertThat(r.status().code()).as(context + "\nanswer " + k + ": " + body(r)).isEqualTo(s.status());
          if (s.patient() != null) {
            assertThat(body(r)).as(context + "\nanswer " + k).contains("\"id\":\"" + s.patient() + "\"");
          } else {
            assertThat(body(r)).as(context + "\nanswer " + k).contains("\"resourceType\":\"OperationOutcome\"");
          }
        }
        if (edge) {
          FullHttpResponse last = answers.get(sent.size());
          assertThat(last.status().code()).as(context).isIn(400, 505);
          assertThat(body(last)).as(context).contains("\"resourceType\":\"OperationOutcome\"");
          assertThat(channel.isOpen()).as(context + "\nclosed after the edge's refusal").isFalse();
        } else {
          assertThat(channel.isOpen()).as(context).isTrue();
        }
        // one audit record per request, in order; the edge-refused request has one too when its exchange had started
        // (its body broke after its head: that exchange records the body that never came whole)
        assertThat(audit.size()).as(context).isBetween(sent.size(), sent.size() + (edge ? 1 : 0));
        assertThat(audit.subList(0, sent.size())).as(context).extracting(AuditRecord::status)
            .containsExactlyElementsOf(sent.stream().map(Sent::status).toList());
        if (audit.size() > sent.size()) {
          assertThat(audit.get(sent.size()).outcome()).as(context).isNotEqualTo(AuditRecord.Outcome.ALLOWED);
        }
        assertThat(reached).as(context + "\nonly the allowed requests reached the EPR")
            .hasSize((int) sent.stream().filter(s -> s.status() == 200).count());
        channel.checkException();
      } finally {
        channel.finishAndReleaseAll();
      }
    }
  }

  /** Runs what the channel has queued, a few rounds (each held request starts in a task after the answer before it). */
  private static void settle(EmbeddedChannel channel) {
    for (int i = 0; i < 20; i++) {
      channel.runPendingTasks();
    }
  }
}
