package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.json;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The at-limit oracle (adversarial sweep 10): under {@code at-limit.action: refuse} an answer refused over a limit
 * counts nothing, so a principal whose window was full could ask without end whether an answer held a patient not yet
 * counted — {@code Patient?identifier=<MRN>&birthdate=ge<guess>} answered 429 or an empty page, a birth date in a
 * few requests, nobody charged. Now such a principal is held before the EPR is asked: every request gets the same
 * 429, whatever the EPR would have answered, except one that names only patients already counted.
 */
class AtLimitHoldExchangeTest {
  final List<AuditRecord> audit = new ArrayList<>();
  final List<UpstreamRequest> reachedEpr = new ArrayList<>();
  final LocalQuotaStore store = new LocalQuotaStore(100, Runnable::run);
  /** What the fake EPR answers. */
  Function<UpstreamRequest, UpstreamResult> epr = r -> json(200, bundle());
  EmbeddedChannel channel;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
    store.close();
  }

  @Test
  void aPrincipalWhoseWindowIsFullGetsTheSame429WhateverTheEprWouldAnswerAndTheEprIsNotAsked() {
    epr = r -> json(200, bundle("p1", "p2", "p3"));
    assertThat(get("Patient?name=smith&_count=3").status().code()).as("the window is now full").isEqualTo(200);

    epr = r -> json(200, bundle("p4")); // the guess is right: the record matches
    FullHttpResponse yes = get("Patient?identifier=mrn%7C123&birthdate=ge1950");
    epr = r -> json(200, bundle()); // the guess is wrong: no record
    FullHttpResponse no = get("Patient?identifier=mrn%7C123&birthdate=ge1960");
    for (FullHttpResponse r : List.of(yes, no)) {
      assertThat(r.status().code()).isEqualTo(429);
      assertThat(body(r)).contains("\"resourceType\":\"OperationOutcome\"").contains("1h limit of 3 distinct patients")
          .contains("only requests that name patients already counted");
      assertThat(r.headers().get("Retry-After")).isEqualTo("3600");
    }
    assertThat(body(yes)).isEqualTo(body(no).replace(requestId(no), requestId(yes)));
    assertThat(reachedEpr).as("asked once, to fill the window").hasSize(1);
    assertThat(audit.subList(1, 3)).allSatisfy(a -> {
      assertThat(a.outcome()).isEqualTo(AuditRecord.Outcome.THROTTLED);
      assertThat(a.rule()).isEqualTo("held:patient-limit:1h");
    });

    epr = r -> json(200, patient("p1"));
    assertThat(get("Patient/p1").status().code()).as("a patient already counted, named").isEqualTo(200);
    epr = r -> json(200, bundle());
    assertThat(get("Patient?_id=p2&birthdate=ge1950").status().code()).as("named, counted, whatever the answer").isEqualTo(200);
    assertThat(reachedEpr).hasSize(3);
    assertThat(get("Patient/p4").status().code()).as("a patient not counted, named").isEqualTo(429);
    assertThat(reachedEpr).hasSize(3);
  }

  @Test
  void anAnswerRefusedOverTheLimitHoldsThePrincipalUntilItWouldFit() {
    epr = r -> json(200, bundle("p1", "p2"));
    assertThat(get("Patient?name=smith").status().code()).as("one place left").isEqualTo(200);
    epr = r -> json(200, bundle("p3", "p4")); // two new patients where one fits: "yes, at least two"
    FullHttpResponse over = get("Patient?identifier=mrn%7C1,mrn%7C2&birthdate=ge1950");
    assertThat(over.status().code()).isEqualTo(429);
    assertThat(audit.get(1).rule()).isEqualTo("patient-limit:1h");
    assertThat(reachedEpr).hasSize(2);

    epr = r -> json(200, bundle());
    FullHttpResponse next = get("Patient?identifier=mrn%7C1,mrn%7C2&birthdate=ge1960");
    assertThat(next.status().code()).as("asked again: held, the EPR is not asked").isEqualTo(429);
    assertThat(next.headers().get("Retry-After")).isEqualTo(over.headers().get("Retry-After"));
    assertThat(audit.get(2).rule()).isEqualTo("held:refused-over-limit");
    assertThat(reachedEpr).hasSize(2);
    epr = r -> json(200, patient("p2"));
    assertThat(get("Patient/p2").status().code()).as("a patient already counted, named").isEqualTo(200);
  }

  @Test
  void aRoleThatLocksAtItsLimitIsNotHeldBeforeItsFirstRefusal() {
    role = ROLE.replace("at-limit: {action: refuse}", "at-limit: {action: lock, lock-for: 1h}");
    epr = r -> json(200, bundle("p1", "p2", "p3"));
    assertThat(get("Patient?name=smith").status().code()).isEqualTo(200);
    epr = r -> json(200, bundle());
    assertThat(get("Patient?identifier=mrn%7C1&birthdate=ge1950").status().code()).isEqualTo(200);
    epr = r -> json(200, bundle("p4"));
    assertThat(get("Patient?identifier=mrn%7C1&birthdate=ge1940").status().code()).isEqualTo(429);
    assertThat(audit).extracting(AuditRecord::rule).contains("account-locked", "patient-limit:1h");
    assertThat(get("Patient/p1").status().code()).as("locked").isEqualTo(429);
    assertThat(audit.get(audit.size() - 1).rule()).isEqualTo("locked");
    assertThat(reachedEpr).as("the EPR was asked until the lock").hasSize(3);
  }

  @Test
  void aRoleInReportOnlyModeIsNeverHeld() {
    role = ROLE.replace("role: desk", "role: desk\nmode: report-only");
    epr = r -> json(200, bundle("p1", "p2", "p3", "p4"));
    assertThat(get("Patient?name=smith").status().code()).isEqualTo(200);
    epr = r -> json(200, bundle());
    assertThat(get("Patient?identifier=mrn%7C1&birthdate=ge1950").status().code()).isEqualTo(200);
    assertThat(reachedEpr).hasSize(2);
  }

  static final String ROLE = """
      role: desk
      applies-to: {roles: [ward]}
      authentication: {amr: [otp]}
      interactions: [read, search-type]
      resource-types: [Patient]
      patient-limits: [{window: 1h, max: 3}]
      at-limit: {action: refuse}
      search: {max-count: 3, unselective: cap, parameters: {"*": ["*"]}, max-or-values: 5}
      rate: {requests-per-second: 1000, burst: 1000, concurrent: 4}
      """;
  String role = ROLE;

  private FullHttpResponse get(String target) {
    if (channel == null) {
      channel = ExchangeRig.channel(ExchangeRig.stages(role, ExchangeRig.wardClinician(), store,
          new ExchangeRig.Sinks(audit::add, () -> true, a -> {}, 3)), ExchangeRig.epr(reachedEpr, r -> epr.apply(r)),
          new InFlight());
    }
    return ExchangeRig.answers(channel, "GET /fhir/" + target + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n\r\n",
        () -> {}, 1).get(0);
  }

  private static String requestId(FullHttpResponse r) {
    return r.headers().get("X-Request-Id");
  }

  private static String patient(String id) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"source\":\"" + ExchangeRig.EPR + "/Patient/" + id
        + "\"}}";
  }

  private static String bundle(String... ids) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[],\"entry\":[");
    for (int i = 0; i < ids.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"").append(ExchangeRig.EPR).append("/Patient/").append(ids[i])
          .append("\",\"resource\":").append(patient(ids[i])).append('}');
    }
    return sb.append("]}").toString();
  }
}
