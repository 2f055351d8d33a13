package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.json;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.fhirwall.audit.Alert;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the at-limit hold (at-limit: refuse; adversarial probe 11), in the sequencer. Break-glass requests are never
 * held because every one of them is alerted on, but an answer refused over the break-glass ceiling was not: only a
 * released one was, so a principal at its break-glass ceiling could ask without end, with the reason header, whether an
 * answer held a patient not yet counted, and each "yes" (429) went unalerted. And a write that names a counted patient
 * went to the EPR while held, though a conditional reference in its body is a search of anyone.
 */
class AtLimitProbeExchangeTest {
  final List<AuditRecord> audit = new ArrayList<>();
  final List<Alert> alerts = new ArrayList<>();
  final List<UpstreamRequest> reachedEpr = new ArrayList<>();
  final LocalQuotaStore store = new LocalQuotaStore(100, Runnable::run);
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
