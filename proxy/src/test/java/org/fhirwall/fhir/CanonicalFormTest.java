package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.fhirwall.fhir.Requests.FHIR_JSON;
import static org.fhirwall.fhir.Requests.FHIR_XML;
import static org.fhirwall.fhir.Requests.FORM;
import static org.fhirwall.fhir.Requests.get;
import static org.fhirwall.fhir.Requests.params;
import static org.fhirwall.fhir.Requests.parsed;
import static org.fhirwall.fhir.Requests.req;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CanonicalFormTest {

  static Stream<RequestParserTest.Ok> roundTripTable() {
    return RequestParserTest.valid().filter(ok -> ok.interaction != Interaction.PAGE);
  }

  private static RawRequest asRaw(CanonicalRequest c, String base) {
    return new RawRequest(c.method(), base + "/" + c.target(), c.headers(), c.body().bytes());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("roundTripTable")
  void parsingTheCanonicalFormGivesTheSameRequest(RequestParserTest.Ok ok) {
    FhirRequest first = parsed(ok.raw);
    CanonicalRequest canonical = CanonicalForm.of(first);
    assertThat(canonical.target()).doesNotStartWith("/");

    FhirRequest again = parsed(asRaw(canonical, "/fhir"));
    boolean write = CanonicalForm.answersWithTheRecord(first);
    if (write) {
      assertThat(canonical.headers()).contains(new RawRequest.Header("Prefer", "return=representation"));
    }
    Requests.assertSameRequest(again, first, write);
    assertThat(again.responseFormat()).isEqualTo(Format.JSON);
    assertThat(again.pretty()).isFalse();

    CanonicalRequest twice = CanonicalForm.of(again);
    assertThat(twice.method()).isEqualTo(canonical.method());
    assertThat(twice.target()).isEqualTo(canonical.target());
    assertThat(twice.headers()).isEqualTo(canonical.headers());
    assertThat(twice.body().bytes()).isEqualTo(canonical.body().bytes());

    RequestParser root = new RequestParser(Requests.CTX, ParserSettings.defaults(""));
    Requests.assertSameRequest(Requests.parsed(root, asRaw(canonical, "")), first, write);
  }

  static Stream<Arguments> targets() {
    return Stream.of(
        Arguments.of(get("/fhir/Patient/1"), "Patient/1"),
        Arguments.of(get("/fhir/Patient/1?_format=xml&_pretty=true"), "Patient/1"),
        Arguments.of(get("/fhir/Patient/1?_summary=true"), "Patient/1?_summary=true"),
        Arguments.of(get("/fhir/Patient?name=smith&_count=50"), "Patient?name=smith&_count=50"),
        Arguments.of(get("/fhir/Patient/_search?name=smith"), "Patient?name=smith"),
        Arguments.of(get("/fhir/Patient/1/_history/2"), "Patient/1/_history/2"),
        Arguments.of(get("/fhir/Patient/1/_history"), "Patient/1/_history"),
        Arguments.of(get("/fhir/_history?_since=2020-01-01"), "_history?_since=2020-01-01"),
        Arguments.of(get("/fhir/Patient/$everything"), "Patient/$everything"),
        Arguments.of(get("/fhir/Patient/1/$everything"), "Patient/1/$everything"),
        Arguments.of(get("/fhir/$export?_type=Patient,Observation"), "$export?_type=Patient,Observation"),
        Arguments.of(get("/fhir/metadata"), "metadata"),
        Arguments.of(get("/fhir"), ""),
        Arguments.of(get("/fhir?_type=Patient&_id=1"), "?_type=Patient&_id=1"),
        Arguments.of(get("/fhir/Patient/1/Observation?code=x"), "Patient/1/Observation?code=x"),
        Arguments.of(get("/fhir/Observation?code=a,b%5C,c"), "Observation?code=a,b%5C,c"),
        Arguments.of(get("/fhir/Observation?code=a\\,b"), "Observation?code=a%5C,b"),
        Arguments.of(get("/fhir/Patient?identifier=http://acme.org|123"), "Patient?identifier=http%3A%2F%2Facme.org%7C123"),
        Arguments.of(get("/fhir/Patient?name=van+der&given=M%C3%BCller"), "Patient?name=van%20der&given=M%C3%BCller"),
        Arguments.of(get("/fhir/Patient?name=a%2Bb&x=~y*"), "Patient?name=a%2Bb&x=~y%2A"),
        Arguments.of(get("/fhir/Observation?subject:Patient.name=x&_has:Observation:subject:code=1"),
            "Observation?subject:Patient.name=x&_has:Observation:subject:code=1"),
        Arguments.of(req("DELETE", "/fhir/Observation?subject=Patient/1", ""), "Observation?subject=Patient%2F1"),
        Arguments.of(req("POST", "/fhir/Patient", RequestParserTest.PATIENT, FHIR_JSON), "Patient"),
        Arguments.of(req("POST", "/fhir/Patient/_search", "name=smith", FORM), "Patient/_search"),
        Arguments.of(req("POST", "/fhir/_search", "_type=Patient", FORM), "_search"),
        Arguments.of(req("POST", "/fhir", RequestParserTest.BATCH, FHIR_JSON), ""));
  }

  @ParameterizedTest(name = "[{index}] -> \"{1}\"")
  @MethodSource("targets")
  void canonicalTargets(RawRequest raw, String expected) {
    assertThat(CanonicalForm.of(parsed(raw)).target()).isEqualTo(expected);
  }

  private static List<String> headerLines(CanonicalRequest c) {
    List<String> lines = new ArrayList<>();
    for (RawRequest.Header h : c.headers()) {
      lines.add(h.name() + ": " + h.value());
    }
    return lines;
  }

  @Test
  void postSearchIsForwardedAsPostWithAFormBody() {
    CanonicalRequest c = CanonicalForm.of(parsed(req("POST", "/fhir/Patient/_search?_count=5", "name=O%27Brien&birthdate=ge1970", FORM)));
    assertThat(c.method()).isEqualTo("POST");
    assertThat(c.target()).isEqualTo("Patient/_search");
    assertThat(new String(c.body().bytes(), StandardCharsets.US_ASCII)).isEqualTo("_count=5&name=O%27Brien&birthdate=ge1970");
    assertThat(headerLines(c)).containsExactly("Content-Type: application/x-www-form-urlencoded");
  }

  @Test
  void onlySafeHeadersAreSent() {
    CanonicalRequest c = CanonicalForm.of(parsed(req("PUT", "/fhir/Patient/1", RequestParserTest.PATIENT_XML, FHIR_XML,
        "Authorization: Bearer secret", "Cookie: a=b", "X-Forwarded-For: 1.2.3.4", "Content-Location: x",
        "If-Match: W/\"4\"", "Prefer: return=minimal, handling=strict", "X-Request-Id: abc", "Accept: application/fhir+xml")));
    // a write asks for the record it wrote, whatever the client preferred: fhirwall charges its patients
    assertThat(headerLines(c)).containsExactly("Content-Type: application/fhir+json;charset=UTF-8", "If-Match: W/\"4\"",
        "Prefer: return=representation", "X-Request-Id: abc");
    assertThat(new String(c.body().bytes(), StandardCharsets.UTF_8)).startsWith("{\"resourceType\":\"Patient\"");
  }

  @Test
  void conditionalCreateSendsCanonicalIfNoneExist() {
    CanonicalRequest c = CanonicalForm.of(parsed(req("POST", "/fhir/Patient", RequestParserTest.PATIENT, FHIR_JSON,
        "If-None-Exist: ?identifier=http://x|1&active=true")));
    assertThat(headerLines(c)).contains("If-None-Exist: identifier=http%3A%2F%2Fx%7C1&active=true");
  }

  @Test
  void allowedAsyncRequestKeepsRespondAsync() {
    CanonicalRequest c = CanonicalForm.of(parsed(get("/fhir/$export", "Prefer: respond-async, return=minimal")));
    assertThat(headerLines(c)).containsExactly("Prefer: return=minimal, respond-async");
  }

  @Test
  void policyRewritesReachTheCanonicalForm() {
    FhirRequest search = parsed(get("/fhir/Patient?name=x&_count=1000"));
    FhirRequest lowered = search.withParams(params("name", "x", "_count", "50"));
    assertThat(CanonicalForm.of(lowered).target()).isEqualTo("Patient?name=x&_count=50");

    FhirRequest batch = parsed(req("POST", "/fhir", RequestParserTest.BATCH, FHIR_JSON));
    List<FhirRequest.BundleEntry> entries = new ArrayList<>(batch.entries());
    FhirRequest.BundleEntry e = entries.get(1);
    entries.set(1, new FhirRequest.BundleEntry(e.index(), e.fullUrl(),
        e.request().withParams(params("subject", "Patient/1", "_count", "5")), e.resourceJson()));
    String bundle = new String(CanonicalForm.of(batch.withEntries(entries)).body().bytes(), StandardCharsets.UTF_8);
    assertThat(bundle).contains("\"url\":\"Observation?subject=Patient%2F1&_count=5\"");
    assertThat(bundle).contains("\"ifNoneExist\":\"identifier=http%3A%2F%2Fx%7C1\"");
  }

  @Test
  void bundleIsRebuiltFromEntriesOnly() {
    String withExtras = "{\"resourceType\":\"Bundle\",\"id\":\"b1\",\"meta\":{\"tag\":[{\"code\":\"x\"}]},\"type\":\"transaction\","
        + "\"entry\":[{\"fullUrl\":\"urn:uuid:1\",\"search\":{\"mode\":\"match\"},\"resource\":" + RequestParserTest.PATIENT
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
    CanonicalRequest c = CanonicalForm.of(parsed(req("POST", "/fhir", withExtras, FHIR_JSON)));
    assertThat(new String(c.body().bytes(), StandardCharsets.UTF_8)).isEqualTo("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"fullUrl\":\"urn:uuid:1\",\"resource\":" + RequestParserTest.PATIENT
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}");
    org.hl7.fhir.r4.model.Bundle parsedByHapi = Requests.CTX.newJsonParser()
        .parseResource(org.hl7.fhir.r4.model.Bundle.class, new String(c.body().bytes(), StandardCharsets.UTF_8));
    assertThat(parsedByHapi.getEntry()).hasSize(1);
  }

  @Test
  void pageRequestsGoThroughTheirLink() {
    FhirRequest page = parsed(get("/fhir?_fwpage=abc", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    assertThatThrownBy(() -> CanonicalForm.of(page)).isInstanceOf(IllegalArgumentException.class);

    PageLinks links = new PageLinks(new byte[32], Duration.ofMinutes(5));
    Instant now = Instant.parse("2025-01-01T00:00:00Z");
    String token = links.wrap("?_getpages=x&_getpagesoffset=20", "Patient", 2, "alice", now);
    PageLinks.PageOpen open = links.open(parsed(get("/fhir?_fwpage=" + token,
        "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")), "alice", now);
    CanonicalRequest c = CanonicalForm.of(((PageLinks.PageOpen.Opened) open).link());
    assertThat(c.method()).isEqualTo("GET");
    assertThat(c.target()).isEqualTo("?_getpages=x&_getpagesoffset=20");
    assertThat(headerLines(c)).containsExactly("traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assertThat(c.body().isEmpty()).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("roundTripTable")
  void hapiReadsTheCanonicalQueryAsTheSameParameters(RequestParserTest.Ok ok) {
    FhirRequest r = parsed(ok.raw);
    CanonicalRequest c = CanonicalForm.of(r);
    String query;
    if (r.method().equals("POST") && r.interaction().isSearch()) {
      query = new String(c.body().bytes(), StandardCharsets.US_ASCII);
    } else {
      int q = c.target().indexOf('?');
      query = q < 0 ? "" : c.target().substring(q + 1);
    }
    java.util.Map<String, List<String>> expected = new java.util.LinkedHashMap<>();
    for (QueryParam p : r.params()) {
      expected.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p.value());
    }
    java.util.Map<String, List<String>> hapi = new java.util.LinkedHashMap<>();
    if (!query.isEmpty()) {
      ca.uhn.fhir.util.UrlUtil.parseQueryString(query).forEach((k, v) -> hapi.put(k, List.of(v)));
    }
    assertThat(hapi).isEqualTo(expected);
  }

  @Test
  void incompleteRequestsAreRejected() {
    FhirRequest noId = new FhirRequest(Interaction.READ, "GET", "Patient", null, null, null, null, false, List.of(), List.of(),
        Format.JSON, false, false, null, List.of(), List.of(), FhirRequest.Body.EMPTY);
    assertThatThrownBy(() -> CanonicalForm.of(noId)).isInstanceOf(IllegalArgumentException.class);
  }
}
