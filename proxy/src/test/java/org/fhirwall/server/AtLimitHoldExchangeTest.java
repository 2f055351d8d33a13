package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.bundle;
import static org.fhirwall.server.ExchangeRig.json;
import static org.fhirwall.server.ExchangeRig.patient;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.fhirwall.audit.Alert;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.quota.ChargeRequest;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.quota.PatientWindow;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The at-limit oracle (adversarial sweep 10): under {@code at-limit.action: refuse} an answer refused over a limit
 * counts nothing, so a principal whose window was full could ask without end whether an answer held a patient not yet
 * counted — {@code Patient?identifier=<MRN>&birthdate=ge<guess>} answered 429 or an empty page, a birth date in a
 * few requests, nobody charged. Now such a principal is held before the EPR is asked: every request gets the same
 * 429, whatever the EPR would have answered, except one that reads only counted patients' own records. Adversarial
 * probe 11's attacks on the hold in the sequencer are here too: a break-glass answer refused over its ceiling (break-glass
 * requests are not held because each is alerted on: that one was not), a write carrying a conditional reference.
 */
class AtLimitHoldExchangeTest {
  final List<AuditRecord> audit = new ArrayList<>();
  final List<Alert> alerts = new ArrayList<>();
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

  /**
   * Requests sent while there was room, answered after the last place went (to another of the principal's requests,
   * in flight at the same time or on another replica): each answer told by 429 or 200 whether it held a patient not
   * yet counted (31 of 32 identifier searches sent at once at the last place were refused over the limit, the others
   * answered). Now the hold is asked again when the answer is charged, in the same step: such an answer gets the same
   * 429 as a request held before the EPR, whatever it holds.
   */
  @Test
  void anAnswerThatComesAfterTheLastPlaceWentIsHeldWhateverItHolds() {
    epr = r -> json(200, bundle("p1", "p2"));
    assertThat(get("Patient?name=smith").status().code()).as("one place left").isEqualTo(200);
    String account = audit.get(0).principal().accountKey();
    epr = r -> { // while the guess is at the EPR, the principal's other request takes the last place
      store.charge(new ChargeRequest(account, List.of(PatientWindow.of(Duration.ofHours(1), 3)), Set.of("p3"),
          ExchangeRig.NOW, true));
      return json(200, bundle()); // the guess is wrong: no record
    };
    FullHttpResponse no = get("Patient?identifier=mrn%7C123&birthdate=ge1960");
    assertThat(no.status().code()).as("an empty answer, held").isEqualTo(429);
    assertThat(audit.get(1).rule()).isEqualTo("held:patient-limit:1h");
    assertThat(audit.get(1).notes()).anySatisfy(n -> assertThat(n).contains("held when its answer came"));
    FullHttpResponse before = get("Patient?identifier=mrn%7C123&birthdate=ge1950");
    assertThat(audit.get(2).rule()).isEqualTo("held:patient-limit:1h");
    assertThat(reachedEpr).as("the next request is held before the EPR").hasSize(2);
    assertThat(body(no)).as("the same answer as a request held before the EPR")
        .isEqualTo(body(before).replace(requestId(before), requestId(no)));
    assertThat(no.headers().get("Retry-After")).isEqualTo(before.headers().get("Retry-After"));
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

  @Test
  void aBreakGlassAnswerRefusedOverItsCeilingIsAlertedOnLikeEveryOther() {
    epr = r -> json(200, bundle("p1", "p2", "p3"));
    assertThat(get("Patient?name=smith", false).status().code()).as("the window is full").isEqualTo(200);
    epr = r -> json(200, bundle("p4"));
    assertThat(get("Patient?name=jones", true).status().code()).as("the break-glass ceiling is full").isEqualTo(200);
    assertThat(alerts).extracting(Alert::event).containsExactly("break-glass-access");

    epr = r -> json(200, bundle("p5")); // "yes": the guess matched someone not counted
    FullHttpResponse yes = get("Patient?identifier=mrn%7C5&birthdate=ge1950", true);
    assertThat(yes.status().code()).isEqualTo(429);
    assertThat(alerts).as("the refused break-glass answer is alerted on").hasSize(2);
    assertThat(alerts.get(1).event()).isEqualTo("patient-limit-reached");
    assertThat(alerts.get(1).detail()).contains("break-glass");

    epr = r -> json(200, bundle()); // "no"
    assertThat(get("Patient?identifier=mrn%7C5&birthdate=ge1960", true).status().code()).isEqualTo(200);
    assertThat(alerts).hasSize(3);
  }

  /**
   * A write of a counted patient's record names only that patient, but a conditional reference in its body is a search
   * the EPR runs ({@code Patient?identifier=<MRN>&birthdate=ge<guess>}): the record written shows whom it matched (429:
   * someone not counted) or the EPR refuses it (no match). At the limit such a write is held like any other.
   */
  @Test
  void aWriteOfACountedPatientCarryingAConditionalReferenceIsHeldAtTheLimit() {
    role = ROLE.replace("interactions: [read, search-type]", "interactions: [read, search-type, update]");
    epr = r -> json(200, bundle("p1", "p2", "p3"));
    assertThat(get("Patient?name=smith", false).status().code()).as("the window is full").isEqualTo(200);
    String body = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"link\":[{\"type\":\"seealso\",\"other\":"
        + "{\"reference\":\"Patient?identifier=mrn%7C5&birthdate=ge1950\"}}]}";
    epr = r -> json(200, "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"link\":[{\"type\":\"seealso\",\"other\":"
        + "{\"reference\":\"Patient/p5\"}}]}");
    FullHttpResponse write = send("PUT /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    assertThat(write.status().code()).isEqualTo(429);
    assertThat(audit.get(audit.size() - 1).rule()).isEqualTo("held:patient-limit:1h");
    assertThat(reachedEpr).as("asked once, to fill the window").hasSize(1);
  }

  static final String ROLE = """
      role: desk
      applies-to: {roles: [ward]}
      authentication: {amr: [otp]}
      interactions: [read, search-type]
      resource-types: [Patient]
      patient-limits: [{window: 1h, max: 3}]
      break-glass: {patient-limits: [{window: 1h, max: 4}], authentication: {amr: [otp], max-age: 15m}}
      at-limit: {action: refuse}
      search: {max-count: 3, unselective: cap, parameters: {"*": ["*"]}, max-or-values: 5}
      rate: {requests-per-second: 1000, burst: 1000, concurrent: 4}
      """;
  String role = ROLE;

  private FullHttpResponse get(String target) {
    return get(target, false);
  }

  private FullHttpResponse get(String target, boolean breakGlass) {
    return send("GET /fhir/" + target + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + (breakGlass ? "X-Break-Glass-Reason: cardiac arrest, bed 4\r\n" : "") + "\r\n");
  }

  private FullHttpResponse send(String wire) {
    if (channel == null) {
      channel = ExchangeRig.channel(ExchangeRig.stages(role, ExchangeRig.wardClinician(), store,
          new ExchangeRig.Sinks(audit::add, () -> true, alerts::add, 100)), ExchangeRig.epr(reachedEpr, r -> epr.apply(r)),
          new InFlight());
    }
    return ExchangeRig.answers(channel, wire, () -> {}, 1).get(0);
  }

  private static String requestId(FullHttpResponse r) {
    return r.headers().get("X-Request-Id");
  }
}
