package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: raw requests, a shared parser, and a field-by-field comparison of requests. */
final class Requests {
  static final FhirContext CTX = FhirContext.forR4Cached();
  static final RequestParser PARSER = new RequestParser(CTX, ParserSettings.defaults("/fhir"));

  static final String FHIR_JSON = "Content-Type: application/fhir+json";
  static final String FHIR_XML = "Content-Type: application/fhir+xml";
  static final String FORM = "Content-Type: application/x-www-form-urlencoded";

  private Requests() {}

  /** {@code headers} as "Name: value". */
  static RawRequest req(String method, String target, String body, String... headers) {
    List<RawRequest.Header> list = new ArrayList<>();
    for (String h : headers) {
      int colon = h.indexOf(':');
      list.add(new RawRequest.Header(h.substring(0, colon), h.substring(colon + 1).trim()));
    }
    return new RawRequest(method, target, list, body.getBytes(StandardCharsets.UTF_8));
  }

  static RawRequest get(String target, String... headers) {
    return req("GET", target, "", headers);
  }

  static List<QueryParam> params(String... nameValues) {
    List<QueryParam> list = new ArrayList<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      list.add(new QueryParam(nameValues[i], nameValues[i + 1]));
    }
    return list;
  }

  static FhirRequest parsed(RequestParser parser, RawRequest raw) {
    ParseResult result = parser.parse(raw);
    assertThat(result).as("parse of %s %s", raw.method(), raw.target()).isInstanceOf(ParseResult.Parsed.class);
    return ((ParseResult.Parsed) result).request();
  }

  static FhirRequest parsed(RawRequest raw) {
    return parsed(PARSER, raw);
  }

  static Refusal refused(RawRequest raw) {
    ParseResult result = PARSER.parse(raw);
    assertThat(result).as("parse of %s %s", raw.method(), raw.target()).isInstanceOf(ParseResult.Rejected.class);
    return ((ParseResult.Rejected) result).refusal();
  }

  /** Equality of two requests field by field (bodies by content), ignoring responseFormat and pretty. */
  static void assertSameRequest(FhirRequest actual, FhirRequest expected) {
    assertSameRequest(actual, expected, false);
  }

  /**
   * Likewise; with {@code exceptPrefer} the {@code Prefer} headers are left out of the comparison (a write's
   * canonical form asks for {@code return=representation}, whatever the client preferred).
   */
  static void assertSameRequest(FhirRequest actual, FhirRequest expected, boolean exceptPrefer) {
    assertThat(actual.interaction()).isEqualTo(expected.interaction());
    assertThat(actual.method()).isEqualTo(expected.method());
    assertThat(actual.resourceType()).isEqualTo(expected.resourceType());
    assertThat(actual.id()).isEqualTo(expected.id());
    assertThat(actual.versionId()).isEqualTo(expected.versionId());
    assertThat(actual.compartment()).isEqualTo(expected.compartment());
    assertThat(actual.operation()).isEqualTo(expected.operation());
    assertThat(actual.conditional()).isEqualTo(expected.conditional());
    assertThat(actual.params()).isEqualTo(expected.params());
    assertThat(actual.ifNoneExist()).isEqualTo(expected.ifNoneExist());
    assertThat(actual.respondAsync()).isEqualTo(expected.respondAsync());
    assertThat(actual.pageToken()).isEqualTo(expected.pageToken());
    assertThat(withoutPrefer(actual.forwardHeaders(), exceptPrefer)).isEqualTo(withoutPrefer(expected.forwardHeaders(), exceptPrefer));
    assertThat(actual.body().contentType()).isEqualTo(expected.body().contentType());
    assertThat(new String(actual.body().bytes(), StandardCharsets.UTF_8))
        .isEqualTo(new String(expected.body().bytes(), StandardCharsets.UTF_8));
    assertThat(actual.entries()).hasSameSizeAs(expected.entries());
    for (int i = 0; i < actual.entries().size(); i++) {
      FhirRequest.BundleEntry a = actual.entries().get(i);
      FhirRequest.BundleEntry e = expected.entries().get(i);
      assertThat(a.index()).isEqualTo(e.index());
      assertThat(a.fullUrl()).isEqualTo(e.fullUrl());
      assertThat(a.resourceJson()).isEqualTo(e.resourceJson());
      assertSameRequest(a.request(), e.request(), exceptPrefer);
    }
  }

  private static java.util.List<RawRequest.Header> withoutPrefer(java.util.List<RawRequest.Header> headers, boolean drop) {
    return drop ? headers.stream().filter(h -> !h.name().equalsIgnoreCase("Prefer")).toList() : headers;
  }
}
