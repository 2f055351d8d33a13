package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.fhirwall.audit.Alert;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.AfterEach;

/**
 * One role enforced by a whole exchange ({@link ExchangeRig}), made on the first request a test {@link #send}s: the
 * audit records it writes, the alerts it raises and the requests that reach the EPR, which answers with {@link #epr}
 * (set it before the first request; by default the EPR is not to be asked). A test class names the role
 * ({@link #role()}) and may name who signs in ({@link #principal()}). The exchange and its store are closed after each
 * test.
 */
abstract class ExchangeFixture {
  final List<AuditRecord> audit = new ArrayList<>();
  final List<Alert> alerts = new ArrayList<>();
  final List<UpstreamRequest> reachedEpr = new ArrayList<>();
  final HeldAdmissionStore store = new HeldAdmissionStore(new LocalQuotaStore(100, Runnable::run));
  Function<UpstreamRequest, UpstreamResult> epr = r -> {
    throw new AssertionError("the EPR was not to be asked: " + r);
  };
  EmbeddedChannel channel;

  /** A ward role (YAML) that may read, search and write Patient, Observation and Practitioner records. */
  static final String WARD_WRITER = """
        role: ward
        applies-to: {roles: [ward]}
        authentication: {amr: [otp]}
        interactions: [read, search-type, batch, transaction, create, update, patch, delete]
        resource-types: [Patient, Observation, Practitioner]
        patient-limits: [{window: 1h, max: 5}]
        search: {max-count: 5, unselective: refuse}
        batch: {max-entries: 5}
        rate: {requests-per-second: 100, burst: 100, concurrent: 4}
        """;

  /** The role policy (YAML) the exchange enforces. */
  abstract String role();

  /** Who sends the requests: a ward clinician signed in with password and one-time code, unless a test class says. */
  Authenticator principal() {
    return ExchangeRig.wardClinician();
  }

  @AfterEach
  void closeExchange() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
    store.close();
  }

  /** The answer to {@code wire}, one HTTP/1.1 request as a client writes it. */
  FullHttpResponse send(String wire) {
    if (channel == null) {
      channel = ExchangeRig.channel(ExchangeRig.stages(role(), principal(), store,
          new ExchangeRig.Sinks(audit::add, () -> true, alerts::add, 100)), ExchangeRig.epr(reachedEpr, r -> epr.apply(r)),
          new InFlight());
    }
    return ExchangeRig.answers(channel, wire, () -> { }, 1).get(0);
  }

  /** A refusal: the body the client received and the one audit record it wrote. */
  record Refused(String body, AuditRecord record) {}

  /** Sends {@code wire} and checks it is refused 403 with an OperationOutcome and one audit record of {@code rule}. */
  Refused refused(String wire, String rule) {
    int before = audit.size();
    FullHttpResponse r = send(wire);
    String body = body(r);
    assertThat(r.status().code()).as(wire + ": " + body).isEqualTo(403);
    assertThat(body).contains("OperationOutcome");
    assertThat(audit).as(wire).hasSize(before + 1);
    AuditRecord a = audit.get(before);
    assertThat(a.rule()).as(wire).isEqualTo(rule);
    return new Refused(body, a);
  }

  /** Sends {@code wire} and checks it is refused 400 with an OperationOutcome. */
  void malformed(String wire) {
    FullHttpResponse r = send(wire);
    assertThat(r.status().code()).as(wire + ": " + body(r)).isEqualTo(400);
    assertThat(body(r)).contains("OperationOutcome");
  }
}
