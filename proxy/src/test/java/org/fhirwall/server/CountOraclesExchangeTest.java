package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.buf;
import static org.fhirwall.server.ExchangeRig.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Answers that tell of patients without showing them — a count, a search total, the address of a
 * matched record — are charged like answers that show them, whatever the request's spelling.
 * Adversarial sweep 4: each test is a shape that once got such an answer past fhirwall uncharged,
 * through the real pipeline on an {@link EmbeddedChannel} (real parser, policy, store, inspector,
 * responder) and a fake EPR that answers the way HAPI FHIR's JPA server was seen to.
 */
class CountOraclesExchangeTest extends ExchangeFixture {
  static final Instant NOW = ExchangeRig.NOW;
  static final String EPR = ExchangeRig.EPR;
  static final ObjectMapper JSON = new ObjectMapper();

  {
    epr = r -> json(200, searchset(42, true, "p1", "p2"));
  }

  // --- a count written otherwise ---------------------------------------------------------------------

  // --- a count that fills a page ---------------------------------------------------------------------

  /**
   * The decoy attack on the count fhirwall resolves with one page of the role's {@code max-count} (3 here): with as many
   * decoy MRNs as a page holds, already charged, a count over the decoys and a target's MRN was refused ("more than a
   * page") exactly when the target existed, and answered with the decoys' count when it did not. The refusal told of
   * the target without charging it. Now a page the matches fill is refused whatever lies beyond it.
   */
  @Test
  void aCountOverDecoysFillingAPageTellsNothingOfTheTarget() {
    epr = mrnIndex("d1", "d2", "d3", "target");
    FullHttpResponse decoys = get("Patient?identifier=mrn%7Cd1,mrn%7Cd2,mrn%7Cd3");
    assertThat(decoys.status().code()).as(body(decoys)).isEqualTo(200);
    FullHttpResponse exists = get("Patient?identifier=mrn%7Cd1,mrn%7Cd2,mrn%7Cd3,mrn%7Ctarget&_summary=count");
    FullHttpResponse missing = get("Patient?identifier=mrn%7Cd1,mrn%7Cd2,mrn%7Cd3,mrn%7Cnobody&_summary=count");
    assertThat(exists.status().code()).as(body(exists)).isEqualTo(403);
    assertThat(missing.status().code()).as(body(missing)).isEqualTo(exists.status().code());
    assertThat(body(missing)).isEqualTo(body(exists));
    assertThat(audit.get(1).rule()).isEqualTo("search-count-unknowable");
    assertThat(audit.get(2).rule()).isEqualTo("search-count-unknowable");
    assertThat(audit.get(1).patients()).as("charged: the page the refusal was made of")
        .containsExactlyInAnyOrder("Patient/d1", "Patient/d2", "Patient/d3");
  }

  /** A page the matches fill, the target on it: the refusal tells that the target exists, and charges it. */
  @Test
  void aCountRefusedForAFullPageChargesThePatientsOnIt() {
    epr = mrnIndex("d1", "d2", "target");
    FullHttpResponse exists = get("Patient?identifier=mrn%7Cd1,mrn%7Cd2,mrn%7Ctarget&_summary=count");
    assertThat(exists.status().code()).as(body(exists)).isEqualTo(403);
    assertThat(audit.get(0).rule()).isEqualTo("search-count-unknowable");
    assertThat(audit.get(0).patients()).containsExactlyInAnyOrder("Patient/d1", "Patient/d2", "Patient/target");
    FullHttpResponse missing = get("Patient?identifier=mrn%7Cd1,mrn%7Cd2,mrn%7Cnobody&_summary=count");
    assertThat(missing.status().code()).as(body(missing)).isEqualTo(200);
    assertThat(body(missing)).contains("\"total\":2");
    assertThat(audit.get(1).patients()).containsExactlyInAnyOrder("Patient/d1", "Patient/d2");
  }

  /**
   * HAPI FHIR reads {@code _count} with {@code Integer.parseInt}: {@code 00}, {@code -0} and {@code +0} are a count of
   * zero like {@code 0}, an answer of totals only. They were forwarded as they were and, inside a batch, got a total
   * over every patient the search matched with none of them charged.
   */
  @ParameterizedTest
  @ValueSource(strings = {"00", "-0", "%2B0", "000"})
  void aZeroCountWrittenOtherwiseIsResolvedLikeAnyCount(String zero) {
    FullHttpResponse r = get("Patient?family=Martin&_count=" + zero);
    assertThat(reachedEpr).hasSize(1);
    assertThat(reachedEpr.get(0).target()).as("fhirwall asked for the matches, not for a count")
        .contains("_count=3").doesNotContain("_count=" + zero);
    assertThat(r.status().code()).as(body(r)).isEqualTo(403);
    assertThat(audit.get(0).rule()).isEqualTo("search-count-unknowable");
  }

  @ParameterizedTest
  @ValueSource(strings = {"00", "-0", "%2B0"})
  void aBatchEntryWithAZeroCountWrittenOtherwiseIsRefusedLikeAnyCount(String zero) {
    FullHttpResponse r = post("", "application/fhir+json", batch("Patient?family=Martin&_count=" + zero));
    assertThat(r.status().code()).as(body(r)).isEqualTo(403);
    assertThat(audit.get(0).rule()).isEqualTo("search-count-in-bundle");
    assertThat(reachedEpr).isEmpty();
  }

  @Test
  void aCountTheEprWouldNotReadAsANumberReachesItAsTheNumberFhirwallJudged() {
    epr = r -> json(200, searchset(null, false, "p1"));
    FullHttpResponse r = get("Patient?family=Martin&_count=02");
    assertThat(r.status().code()).isEqualTo(200);
    assertThat(reachedEpr.get(0).target()).contains("_count=2").doesNotContain("_count=02");
  }

  // --- a total inside a batch answer -----------------------------------------------------------------

  /**
   * Seen on HAPI FHIR's JPA server: {@code batch [GET Patient?gender=female&_count=1&_total=accurate]} answered
   * {@code "total":96} inside the batch response with one patient shown and charged.
   */
  @Test
  void aSearchTotalInsideABatchAnswerIsWithheldWhileItsSearchHasMorePages() throws Exception {
    // the second search's page is not full (a full one links on and withholds its total: FullPageLinksExchangeTest)
    epr = r -> json(200, batchResponse(searchset(96, true, "p1"), searchset(0, false)));
    FullHttpResponse r = post("", "application/fhir+json", batch("Patient?gender=female&_count=1",
        "Patient?family=Martin&_count=1"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    JsonNode entries = JSON.readTree(body(r)).path("entry");
    JsonNode paged = entries.get(0).path("resource");
    assertThat(paged.has("total")).as("a total over matches not shown: " + paged).isFalse();
    assertThat(paged.path("entry")).hasSize(1);
    assertThat(paged.path("link").toString()).contains("_fwpage=");
    assertThat(entries.get(1).path("resource").has("total")).as("a search answered whole keeps its total").isTrue();
    assertThat(entries.get(1).path("resource").path("total").asInt()).isZero();
    assertThat(audit.get(0).patients()).containsExactlyInAnyOrder("Patient/p1");
  }

  // --- the address of a matched record ---------------------------------------------------------------

  /**
   * Seen on HAPI FHIR's JPA server: a conditional create whose {@code If-None-Exist} matched one patient answered 200
   * with {@code Location: .../Patient/p135/_history/1} and, under {@code Prefer: return=minimal} (or
   * {@code OperationOutcome}), no resource: the patient behind an MRN was found and nothing was charged.
   */
  @ParameterizedTest
  @ValueSource(strings = {"return=minimal", "return=OperationOutcome"})
  void aConditionalCreateThatMatchedChargesThePatientItsAnswerPointsAt(String prefer) {
    epr = r -> located(200, EPR + "/Patient/p135/_history/1", "");
    FullHttpResponse r = send("POST /fhir/Patient HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nPrefer: " + prefer + "\r\nIf-None-Exist: identifier=mrn|135\r\n"
        + "Content-Length: 40\r\n\r\n" + "{\"resourceType\":\"Patient\",\"active\":tru}".replace("tru}", "true}"));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(audit.get(0).patients()).containsExactly("Patient/p135");
    assertThat(reachedEpr.get(0).headers()).as("the EPR is asked for the matched resource itself")
        .contains(Map.entry("Prefer", "return=representation"))
        .doesNotContain(Map.entry("Prefer", prefer));
  }

  @Test
  void aConditionalCreateOfAnotherTypeAsksTheEprForTheResourceSoItsPatientIsCharged() {
    epr = r -> located(200, EPR + "/Observation/o7/_history/1",
        "{\"resourceType\":\"Observation\",\"id\":\"o7\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p9\"}}");
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}";
    FullHttpResponse r = send("POST /fhir/Observation HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nPrefer: return=minimal\r\nIf-None-Exist: identifier=lab|7\r\n"
        + "Content-Length: " + obs.length() + "\r\n\r\n" + obs);
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr.get(0).headers()).contains(Map.entry("Prefer", "return=representation"));
    assertThat(audit.get(0).patients()).containsExactly("Patient/p9");
    assertThat(body(r)).as("the client asked for no resource, and gets none: only where it is").isEmpty();
    assertThat(r.headers().get("Location")).endsWith("/Observation/o7/_history/1").doesNotContain(EPR);
    assertThat(r.headers().get("Content-Type")).isNull();
  }

  @Test
  void aWriteUnderReturnOperationOutcomeIsAnsweredWithAnOutcomeNotTheRecordTheEprWasAskedFor() {
    epr = r -> located(201, EPR + "/Observation/o7/_history/1",
        "{\"resourceType\":\"Observation\",\"id\":\"o7\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p9\"}}");
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}";
    FullHttpResponse r = send("POST /fhir/Observation HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nPrefer: handling=strict, return=OperationOutcome\r\n"
        + "Content-Length: " + obs.length() + "\r\n\r\n" + obs);
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(reachedEpr.get(0).headers()).contains(Map.entry("Prefer", "return=representation"));
    assertThat(audit.get(0).patients()).containsExactly("Patient/p9");
    assertThat(body(r)).as("an outcome, as asked; not the record")
        .startsWith("{\"resourceType\":\"OperationOutcome\"").contains("\"severity\":\"information\"")
        .doesNotContain("o7\",").doesNotContain("Patient/p9");
    assertThat(r.headers().get("Content-Type")).startsWith("application/fhir+json");
    assertThat(r.headers().get("Location")).endsWith("/Observation/o7/_history/1").doesNotContain(EPR);
  }

  @Test
  void aBatchUnderReturnMinimalShowsNoWrittenResourceButEveryReadAndChargesBoth() throws Exception {
    String obs = "{\"resourceType\":\"Observation\",\"id\":\"o7\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/p9\"}}";
    epr = r -> json(200, "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":["
        + "{\"resource\":" + obs + ",\"response\":{\"status\":\"201 Created\",\"location\":\"Observation/o7/_history/1\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p2\"},\"response\":{\"status\":\"200 OK\"}}]}");
    String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/p9\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/p2\"}}]}";
    FullHttpResponse r = send("POST /fhir HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nPrefer: return=minimal\r\n"
        + "Content-Length: " + batch.length() + "\r\n\r\n" + batch);
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr.get(0).headers()).contains(Map.entry("Prefer", "return=representation"));
    JsonNode entries = JSON.readTree(body(r)).path("entry");
    assertThat(entries.get(0).has("resource")).as("the write's entry: as asked, no resource").isFalse();
    assertThat(entries.get(0).path("response").path("location").asText()).isEqualTo("Observation/o7/_history/1");
    assertThat(entries.get(1).path("resource").path("id").asText()).as("a read's entry keeps what it read").isEqualTo("p2");
    assertThat(audit.get(0).patients()).containsExactlyInAnyOrder("Patient/p9", "Patient/p2");
  }

  @Test
  void aWriteWithoutPreferenceIsAnsweredWithTheRecordAsTheEprWrote() {
    epr = r -> located(201, EPR + "/Observation/o7/_history/1",
        "{\"resourceType\":\"Observation\",\"id\":\"o7\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p9\"}}");
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}";
    FullHttpResponse r = send("POST /fhir/Observation HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nPrefer: return=representation\r\n"
        + "Content-Length: " + obs.length() + "\r\n\r\n" + obs);
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(body(r)).contains("\"id\":\"o7\"").contains("Patient/p9");
    assertThat(audit.get(0).patients()).containsExactly("Patient/p9");
  }

  /**
   * A JSON Patch's {@code test} operations ask about a record's content (its subject, its code) without showing it: a
   * patch that succeeds under {@code Prefer: return=minimal} confirmed them and charged nobody.
   */
  @Test
  void aPatchAsksTheEprForThePatchedRecordSoItsPatientIsCharged() {
    epr = r -> located(200, EPR + "/Observation/o5/_history/2",
        "{\"resourceType\":\"Observation\",\"id\":\"o5\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p9\"}}");
    String patch = "[{\"op\":\"test\",\"path\":\"/subject/reference\",\"value\":\"Patient/p9\"},"
        + "{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"final\"}]";
    // a patch of a patient's record names the patient (a failed test tells of the record too: see ConditionalWritesExchangeTest)
    FullHttpResponse r = send("PATCH /fhir/Observation?_id=o5&subject=Patient/p9 HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/json-patch+json\r\nPrefer: return=minimal\r\n"
        + "Content-Length: " + patch.length() + "\r\n\r\n" + patch);
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr.get(0).headers()).contains(Map.entry("Prefer", "return=representation"))
        .doesNotContain(Map.entry("Prefer", "return=minimal"));
    assertThat(audit.get(0).patients()).containsExactly("Patient/p9");
  }

  /**
   * HAPI FHIR resolves a conditional reference in a body ({@code Patient?identifier=...}) to the one patient it matches
   * when it writes: a create under {@code Prefer: return=minimal} found the patient behind an MRN and charged nobody.
   */
  @Test
  void aCreateWhoseReferenceTheEprResolvesChargesThePatientItResolvedTo() {
    epr = r -> located(201, EPR + "/Observation/o8/_history/1",
        "{\"resourceType\":\"Observation\",\"id\":\"o8\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/p135\"}}");
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient?identifier=mrn|135\"}}";
    FullHttpResponse r = send("POST /fhir/Observation HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer good\r\n"
        + "Content-Type: application/fhir+json\r\nPrefer: return=minimal\r\n"
        + "Content-Length: " + obs.length() + "\r\n\r\n" + obs);
    assertThat(r.status().code()).as(body(r)).isEqualTo(201);
    assertThat(reachedEpr.get(0).headers()).contains(Map.entry("Prefer", "return=representation"))
        .doesNotContain(Map.entry("Prefer", "return=minimal"));
    assertThat(audit.get(0).patients()).containsExactly("Patient/p135");
    assertThat(body(r)).as("the resolved patient is charged, not shown").isEmpty();
  }

  // --- the rig ---------------------------------------------------------------------------------------

  static String searchset(Integer total, boolean next, String... ids) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"");
    if (total != null) {
      sb.append(",\"total\":").append(total);
    }
    sb.append(",\"link\":[{\"relation\":\"self\",\"url\":\"").append(EPR).append("/Patient\"}");
    if (next) {
      sb.append(",{\"relation\":\"next\",\"url\":\"").append(EPR).append("?_getpages=abc&_getpagesoffset=1&_count=1\"}");
    }
    sb.append("],\"entry\":[");
    for (int i = 0; i < ids.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"").append(EPR).append("/Patient/").append(ids[i])
          .append("\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"").append(ids[i]).append("\"}}");
    }
    return sb.append("]}").toString();
  }

  /**
   * An EPR holding one Patient per MRN in {@code mrns} (its id the MRN's value) that answers
   * {@code Patient?identifier=mrn|a,mrn|b,...&_count=n} as HAPI FHIR does: the first {@code n} matches, and a next link
   * when more match.
   */
  static Function<UpstreamRequest, UpstreamResult> mrnIndex(String... mrns) {
    java.util.Set<String> known = java.util.Set.of(mrns);
    return r -> {
      String query = java.net.URLDecoder.decode(r.target().substring(r.target().indexOf('?') + 1),
          java.nio.charset.StandardCharsets.UTF_8);
      List<String> found = new ArrayList<>();
      int count = Integer.MAX_VALUE;
      for (String p : query.split("&")) {
        if (p.startsWith("identifier=")) {
          for (String v : p.substring("identifier=".length()).split(",")) {
            String value = v.substring(v.indexOf('|') + 1);
            if (known.contains(value)) {
              found.add(value);
            }
          }
        } else if (p.startsWith("_count=")) {
          count = Integer.parseInt(p.substring("_count=".length()));
        }
      }
      boolean more = found.size() > count;
      return json(200, searchset(null, more, found.subList(0, Math.min(count, found.size())).toArray(String[]::new)));
    };
  }

  static String batchResponse(String... resources) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":[");
    for (int i = 0; i < resources.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"resource\":").append(resources[i])
          .append(",\"response\":{\"status\":\"200 OK\"}}");
    }
    return sb.append("]}").toString();
  }

  static String batch(String... urls) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (int i = 0; i < urls.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"").append(urls[i]).append("\"}}");
    }
    return sb.append("]}").toString();
  }

  static UpstreamResult located(int status, String location, String body) {
    DefaultHttpHeaders h = new DefaultHttpHeaders();
    h.set("Location", location);
    h.set("Content-Location", location);
    if (!body.isEmpty()) {
      h.set("Content-Type", "application/fhir+json");
    }
    return new UpstreamResult.Response(status, h, buf(body));
  }

  private FullHttpResponse get(String target) {
    return send(Wire.get(target));
  }

  private FullHttpResponse post(String path, String contentType, String body) {
    return send(Wire.write("POST", path, contentType, body));
  }

  @Override
  String role() {
    return """
        role: ward
        applies-to: {roles: [ward]}
        authentication: {amr: [otp]}
        interactions: [read, search-type, batch, create, patch]
        resource-types: [Patient, Observation]
        patient-limits: [{window: 1h, max: 10}]
        search: {max-count: 3, unselective: cap, require-patient-criterion: false}
        batch: {max-entries: 3}
        rate: {requests-per-second: 100, burst: 100, concurrent: 4}
        """;
  }
}
