package org.fhirwall.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.fhir.Requests.FHIR_JSON;
import static org.fhirwall.fhir.Requests.FHIR_XML;
import static org.fhirwall.fhir.Requests.FORM;
import static org.fhirwall.fhir.Requests.get;
import static org.fhirwall.fhir.Requests.params;
import static org.fhirwall.fhir.Requests.parsed;
import static org.fhirwall.fhir.Requests.refused;
import static org.fhirwall.fhir.Requests.req;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestParserTest {
  static final String PATIENT = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Smith\"}]}";
  static final String PATIENT_1 = "{\"resourceType\":\"Patient\",\"id\":\"1\",\"name\":[{\"family\":\"Smith\"}]}";
  static final String PATIENT_XML = "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/><name><family value=\"Smith\"/></name></Patient>";
  static final String JSON_PATCH = "[{\"op\":\"replace\",\"path\":\"/active\",\"value\":false}]";
  static final String FHIRPATH_PATCH = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":["
      + "{\"name\":\"type\",\"valueCode\":\"delete\"},{\"name\":\"path\",\"valueString\":\"Patient.birthDate\"}]}]}";
  static final String PARAMETERS = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"onlyCertainMatches\",\"valueBoolean\":true}]}";
  static final String BATCH = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
      + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1\"}},"
      + "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?subject=Patient/1&_count=10\"}},"
      + "{\"fullUrl\":\"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a\",\"resource\":" + PATIENT
      + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":\"identifier=http://x|1\"}}]}";
  static final String TRANSACTION = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
      + "{\"resource\":" + PATIENT_1 + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/1\",\"ifMatch\":\"W/\\\"3\\\"\"}},"
      + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Observation/5\"}},"
      + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Observation?subject=Patient/9\"}}]}";
  static final String BATCH_XML = "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/><entry><request>"
      + "<method value=\"GET\"/><url value=\"Patient/2\"/></request></entry></Bundle>";

  /** What a valid request must classify to; fields left alone must be null / empty / false. */
  static final class Ok {
    final String name;
    final RawRequest raw;
    final Interaction interaction;
    @Nullable String type;
    @Nullable String id;
    @Nullable String versionId;
    @Nullable String compartment;
    @Nullable String operation;
    boolean conditional;
    List<QueryParam> params = List.of();
    List<QueryParam> ifNoneExist = List.of();
    Format format = Format.JSON;
    boolean pretty;
    boolean async;
    @Nullable String pageToken;
    @Nullable List<String> forward;
    @Nullable String bodyContains;
    @Nullable List<Interaction> entries;

    Ok(String name, RawRequest raw, Interaction interaction) {
      this.name = name;
      this.raw = raw;
      this.interaction = interaction;
    }

    Ok type(String t) { this.type = t; return this; }
    Ok id(String i) { this.id = i; return this; }
    Ok version(String v) { this.versionId = v; return this; }
    Ok compartment(String c) { this.compartment = c; return this; }
    Ok op(String o) { this.operation = o; return this; }
    Ok conditional() { this.conditional = true; return this; }
    Ok params(String... nv) { this.params = Requests.params(nv); return this; }
    Ok ifNoneExist(String... nv) { this.ifNoneExist = Requests.params(nv); return this; }
    Ok format(Format f) { this.format = f; return this; }
    Ok pretty() { this.pretty = true; return this; }
    Ok async() { this.async = true; return this; }
    Ok page(String token) { this.pageToken = token; return this; }
    Ok forward(String... headers) { this.forward = List.of(headers); return this; }
    Ok body(String contains) { this.bodyContains = contains; return this; }
    Ok entries(Interaction... is) { this.entries = List.of(is); return this; }

    @Override
    public String toString() {
      return name;
    }
  }

  static Ok ok(String name, RawRequest raw, Interaction i) {
    return new Ok(name, raw, i);
  }

  static Stream<Ok> valid() {
    return Stream.of(
        ok("read", get("/fhir/Patient/1"), Interaction.READ).type("Patient").id("1"),
        ok("read with _summary and _elements", get("/fhir/Patient/1?_summary=true&_elements=name,birthDate"), Interaction.READ)
            .type("Patient").id("1").params("_summary", "true", "_elements", "name,birthDate"),
        ok("read with _elements:exclude", get("/fhir/Patient/1?_elements:exclude=name"), Interaction.READ)
            .type("Patient").id("1").params("_elements:exclude", "name"),
        ok("read _format=xml", get("/fhir/Patient/1?_format=xml"), Interaction.READ).type("Patient").id("1").format(Format.XML),
        ok("read _format with unencoded +", get("/fhir/Patient/1?_format=application/fhir+xml"), Interaction.READ)
            .type("Patient").id("1").format(Format.XML),
        ok("read _format encoded", get("/fhir/Patient/1?_format=application%2Ffhir%2Bjson"), Interaction.READ)
            .type("Patient").id("1"),
        ok("read _format=ndjson", get("/fhir/Patient/1?_format=ndjson"), Interaction.READ).type("Patient").id("1").format(Format.NDJSON),
        ok("read Accept xml", get("/fhir/Patient/1", "Accept: application/fhir+xml"), Interaction.READ)
            .type("Patient").id("1").format(Format.XML),
        ok("read Accept with q", get("/fhir/Patient/1", "Accept: text/html, application/xml;q=0.9, application/json;q=0.5"), Interaction.READ)
            .type("Patient").id("1").format(Format.XML),
        ok("read Accept */*", get("/fhir/Patient/1", "Accept: */*"), Interaction.READ).type("Patient").id("1"),
        ok("_format beats Accept", get("/fhir/Patient/1?_format=json", "Accept: application/fhir+xml"), Interaction.READ)
            .type("Patient").id("1"),
        ok("read _pretty", get("/fhir/Patient/1?_pretty=true"), Interaction.READ).type("Patient").id("1").pretty(),
        ok("read id with dots and dashes", get("/fhir/Patient/a-B.9"), Interaction.READ).type("Patient").id("a-B.9"),
        ok("read 64-char id", get("/fhir/Patient/" + "a".repeat(64)), Interaction.READ).type("Patient").id("a".repeat(64)),
        ok("vread", get("/fhir/Patient/1/_history/2"), Interaction.VREAD).type("Patient").id("1").version("2"),
        ok("update JSON", req("PUT", "/fhir/Patient/1", PATIENT_1, FHIR_JSON), Interaction.UPDATE).type("Patient").id("1")
            .body("\"family\":\"Smith\"").forward("Content-Type: application/fhir+json;charset=UTF-8"),
        ok("update without id in body", req("PUT", "/fhir/Patient/1", PATIENT, "Content-Type: application/json; charset=utf-8"),
            Interaction.UPDATE).type("Patient").id("1"),
        ok("update XML converted to JSON", req("PUT", "/fhir/Patient/1", PATIENT_XML, FHIR_XML), Interaction.UPDATE)
            .type("Patient").id("1").body("\"resourceType\":\"Patient\"")
            .forward("Content-Type: application/fhir+json;charset=UTF-8"),
        ok("update with If-Match", req("PUT", "/fhir/Patient/1", PATIENT_1, FHIR_JSON, "If-Match: W/\"2\""), Interaction.UPDATE)
            .type("Patient").id("1").forward("Content-Type: application/fhir+json;charset=UTF-8", "If-Match: W/\"2\""),
        ok("update drops Content-Location", req("PUT", "/fhir/Patient/1", PATIENT_1, FHIR_JSON, "Content-Location: /fhir/Patient/2"),
            Interaction.UPDATE).type("Patient").id("1").forward("Content-Type: application/fhir+json;charset=UTF-8"),
        ok("conditional update", req("PUT", "/fhir/Patient?identifier=http://acme.org/mrn|123", PATIENT, FHIR_JSON), Interaction.UPDATE)
            .type("Patient").conditional().params("identifier", "http://acme.org/mrn|123"),
        ok("json patch", req("PATCH", "/fhir/Patient/1", JSON_PATCH, "Content-Type: application/json-patch+json"), Interaction.PATCH)
            .type("Patient").id("1").body("\"op\":\"replace\"").forward("Content-Type: application/json-patch+json"),
        ok("fhirpath patch", req("PATCH", "/fhir/Patient/1", FHIRPATH_PATCH, FHIR_JSON), Interaction.PATCH).type("Patient").id("1")
            .body("Parameters"),
        ok("conditional patch", req("PATCH", "/fhir/Patient?identifier=a", JSON_PATCH, "Content-Type: application/json-patch+json"),
            Interaction.PATCH).type("Patient").conditional().params("identifier", "a"),
        ok("delete", req("DELETE", "/fhir/Observation/7", ""), Interaction.DELETE).type("Observation").id("7"),
        ok("conditional delete", req("DELETE", "/fhir/Observation?subject=Patient/1", ""), Interaction.DELETE)
            .type("Observation").conditional().params("subject", "Patient/1"),
        ok("create", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON), Interaction.CREATE).type("Patient")
            .forward("Content-Type: application/fhir+json;charset=UTF-8"),
        ok("create with Prefer return", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "Prefer: return=minimal"),
            Interaction.CREATE).type("Patient").forward("Content-Type: application/fhir+json;charset=UTF-8", "Prefer: return=minimal"),
        ok("create with _format", req("POST", "/fhir/Patient?_format=xml", PATIENT, FHIR_JSON), Interaction.CREATE).type("Patient")
            .format(Format.XML),
        ok("conditional create", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "If-None-Exist: identifier=http://x|1"),
            Interaction.CREATE).type("Patient").conditional().ifNoneExist("identifier", "http://x|1")
            .forward("Content-Type: application/fhir+json;charset=UTF-8", "If-None-Exist: identifier=http%3A%2F%2Fx%7C1"),
        ok("conditional create with type prefix", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "If-None-Exist: Patient?identifier=a"),
            Interaction.CREATE).type("Patient").conditional().ifNoneExist("identifier", "a"),
        ok("history instance", get("/fhir/Patient/1/_history?_count=10"), Interaction.HISTORY_INSTANCE).type("Patient").id("1")
            .params("_count", "10"),
        ok("history type", get("/fhir/Patient/_history"), Interaction.HISTORY_TYPE).type("Patient"),
        ok("history system", get("/fhir/_history?_since=2020-01-01"), Interaction.HISTORY_SYSTEM).params("_since", "2020-01-01"),
        ok("search type", get("/fhir/Patient?name=smith&_count=50"), Interaction.SEARCH_TYPE).type("Patient")
            .params("name", "smith", "_count", "50"),
        ok("search _summary=count", get("/fhir/Patient?_summary=count"), Interaction.SEARCH_TYPE).type("Patient")
            .params("_summary", "count"),
        ok("search _summary=false", get("/fhir/Patient?_summary=false"), Interaction.SEARCH_TYPE).type("Patient")
            .params("_summary", "false"),
        ok("search _summary=text", get("/fhir/Patient?_summary=text"), Interaction.SEARCH_TYPE).type("Patient")
            .params("_summary", "text"),
        ok("read _summary=data", get("/fhir/Patient/1?_summary=data"), Interaction.READ).type("Patient").id("1")
            .params("_summary", "data"),
        ok("search no params", get("/fhir/Patient"), Interaction.SEARCH_TYPE).type("Patient"),
        ok("search empty query", get("/fhir/Patient?"), Interaction.SEARCH_TYPE).type("Patient"),
        ok("search OR list with escaped comma", get("/fhir/Observation?code=a,b%5C,c"), Interaction.SEARCH_TYPE).type("Observation")
            .params("code", "a,b\\,c"),
        ok("search raw backslash escape", get("/fhir/Observation?code=a\\,b"), Interaction.SEARCH_TYPE).type("Observation")
            .params("code", "a\\,b"),
        ok("search chain and modifier", get("/fhir/Observation?subject:Patient.name=x&code:text=y"), Interaction.SEARCH_TYPE)
            .type("Observation").params("subject:Patient.name", "x", "code:text", "y"),
        ok("search known modifiers", get("/fhir/Observation?code:not=a&value-string:exact=b&subject:missing=false"
            + "&identifier:of-type=c&_include:iterate=Observation:subject&_elements:exclude=note"), Interaction.SEARCH_TYPE)
            .type("Observation").params("code:not", "a", "value-string:exact", "b", "subject:missing", "false",
                "identifier:of-type", "c", "_include:iterate", "Observation:subject", "_elements:exclude", "note"),
        ok("search _has", get("/fhir/Patient?_has:Observation:subject:code=1234-5"), Interaction.SEARCH_TYPE).type("Patient")
            .params("_has:Observation:subject:code", "1234-5"),
        ok("search _has with a modifier", get("/fhir/Patient?_has:Observation:patient:code:text=abc"), Interaction.SEARCH_TYPE)
            .type("Patient").params("_has:Observation:patient:code:text", "abc"),
        ok("search nested _has", get("/fhir/Patient?_has:Observation:patient:_has:Provenance:target:agent=Practitioner/1"),
            Interaction.SEARCH_TYPE).type("Patient").params("_has:Observation:patient:_has:Provenance:target:agent",
                "Practitioner/1"),
        ok("search _has with a chain", get("/fhir/Patient?_has:Observation:patient:performer:Practitioner.name=abc"),
            Interaction.SEARCH_TYPE).type("Patient").params("_has:Observation:patient:performer:Practitioner.name", "abc"),
        ok("search repeated param is AND", get("/fhir/Observation?date=ge2020&date=le2021"), Interaction.SEARCH_TYPE)
            .type("Observation").params("date", "ge2020", "date", "le2021"),
        ok("search UTF-8 value", get("/fhir/Patient?name=M%C3%BCller"), Interaction.SEARCH_TYPE).type("Patient").params("name", "Müller"),
        ok("search plus is space", get("/fhir/Patient?name=van+der"), Interaction.SEARCH_TYPE).type("Patient").params("name", "van der"),
        ok("search encoded plus", get("/fhir/Patient?name=a%2Bb"), Interaction.SEARCH_TYPE).type("Patient").params("name", "a+b"),
        ok("search includes", get("/fhir/Encounter?_include=Encounter:subject&_include=Encounter:participant&_revinclude=Observation:encounter"),
            Interaction.SEARCH_TYPE).type("Encounter")
            .params("_include", "Encounter:subject", "_include", "Encounter:participant", "_revinclude", "Observation:encounter"),
        ok("search token with system", get("/fhir/Patient?identifier=http://acme.org|123"), Interaction.SEARCH_TYPE).type("Patient")
            .params("identifier", "http://acme.org|123"),
        ok("search empty value", get("/fhir/Patient?name="), Interaction.SEARCH_TYPE).type("Patient").params("name", ""),
        ok("search value with =", get("/fhir/Patient?name=a=b"), Interaction.SEARCH_TYPE).type("Patient").params("name", "a=b"),
        ok("search GET _search", get("/fhir/Patient/_search?name=x"), Interaction.SEARCH_TYPE).type("Patient").params("name", "x"),
        ok("search POST form", req("POST", "/fhir/Patient/_search", "name=smith&birthdate=ge1970", FORM), Interaction.SEARCH_TYPE)
            .type("Patient").params("name", "smith", "birthdate", "ge1970").forward(),
        ok("search POST form and URL merged", req("POST", "/fhir/Patient/_search?_count=5", "name=smith",
            "Content-Type: application/x-www-form-urlencoded; charset=UTF-8"), Interaction.SEARCH_TYPE)
            .type("Patient").params("_count", "5", "name", "smith"),
        ok("search POST empty body", req("POST", "/fhir/Patient/_search?name=x", ""), Interaction.SEARCH_TYPE).type("Patient")
            .params("name", "x"),
        ok("search system", get("/fhir?_type=Patient,Observation&_lastUpdated=gt2020"), Interaction.SEARCH_SYSTEM)
            .params("_type", "Patient,Observation", "_lastUpdated", "gt2020"),
        ok("search system trailing slash", get("/fhir/?_id=1"), Interaction.SEARCH_SYSTEM).params("_id", "1"),
        ok("search system POST", req("POST", "/fhir/_search", "_type=Patient", FORM), Interaction.SEARCH_SYSTEM).params("_type", "Patient"),
        ok("search compartment", get("/fhir/Patient/1/Observation?code=x"), Interaction.SEARCH_COMPARTMENT).type("Observation")
            .compartment("Patient/1").params("code", "x"),
        ok("search compartment POST", req("POST", "/fhir/Patient/1/Observation/_search", "code=x", FORM),
            Interaction.SEARCH_COMPARTMENT).type("Observation").compartment("Patient/1").params("code", "x"),
        ok("search Encounter compartment", get("/fhir/Encounter/e1/Observation"), Interaction.SEARCH_COMPARTMENT)
            .type("Observation").compartment("Encounter/e1"),
        ok("capabilities", get("/fhir/metadata"), Interaction.CAPABILITIES),
        ok("capabilities mode", get("/fhir/metadata?mode=terminology"), Interaction.CAPABILITIES).params("mode", "terminology"),
        ok("batch", req("POST", "/fhir", BATCH, FHIR_JSON), Interaction.BATCH)
            .entries(Interaction.READ, Interaction.SEARCH_TYPE, Interaction.CREATE).body("\"type\":\"batch\"")
            .forward("Content-Type: application/fhir+json;charset=UTF-8"),
        ok("transaction", req("POST", "/fhir/", TRANSACTION, FHIR_JSON), Interaction.TRANSACTION)
            .entries(Interaction.UPDATE, Interaction.DELETE, Interaction.DELETE).body("\"type\":\"transaction\""),
        ok("batch XML", req("POST", "/fhir", BATCH_XML, FHIR_XML), Interaction.BATCH).entries(Interaction.READ),
        ok("empty batch", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\"}", FHIR_JSON), Interaction.BATCH)
            .entries(),
        ok("export async", get("/fhir/$export?_type=Patient", "Prefer: respond-async"), Interaction.OPERATION_SYSTEM).op("export")
            .params("_type", "Patient").async().forward(),
        ok("type everything", get("/fhir/Patient/$everything"), Interaction.OPERATION_TYPE).type("Patient").op("everything"),
        ok("instance everything, page size in the body", req("POST", "/fhir/Patient/1/$everything",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_count\",\"valueInteger\":5}]}", FHIR_JSON),
            Interaction.OPERATION_INSTANCE).type("Patient").id("1").op("everything"),
        ok("instance everything", get("/fhir/Patient/1/$everything?_count=100"), Interaction.OPERATION_INSTANCE).type("Patient").id("1")
            .op("everything").params("_count", "100"),
        ok("graphql", get("/fhir/$graphql?query=%7BPatientList%7Bname%7D%7D"), Interaction.OPERATION_SYSTEM).op("graphql")
            .params("query", "{PatientList{name}}"),
        ok("instance graphql", get("/fhir/Patient/1/$graphql?query=%7Bname%7D"), Interaction.OPERATION_INSTANCE).type("Patient")
            .id("1").op("graphql").params("query", "{name}"),
        ok("operation POST Parameters", req("POST", "/fhir/Patient/$match", PARAMETERS, FHIR_JSON), Interaction.OPERATION_TYPE)
            .type("Patient").op("match").body("onlyCertainMatches"),
        ok("operation POST empty", req("POST", "/fhir/Patient/1/$meta", ""), Interaction.OPERATION_INSTANCE).type("Patient").id("1")
            .op("meta"),
        ok("operation with hyphen", get("/fhir/CodeSystem/$validate-code?code=x&system=http://loinc.org"), Interaction.OPERATION_TYPE)
            .type("CodeSystem").op("validate-code").params("code", "x", "system", "http://loinc.org"),
        ok("page", get("/fhir?_fwpage=abc-DEF_123"), Interaction.PAGE).page("abc-DEF_123"),
        ok("page with _format", get("/fhir/?_fwpage=tok&_format=xml"), Interaction.PAGE).page("tok").format(Format.XML),
        ok("headers kept and dropped", get("/fhir/Patient/1",
            "Host: fhir.example", "Authorization: Bearer x", "Cookie: s=1", "X-Forwarded-For: 10.0.0.1", "Forwarded: for=1.2.3.4",
            "Accept-Encoding: gzip", "Connection: keep-alive", "Keep-Alive: 5", "If-None-Match: W/\"1\"",
            "If-Modified-Since: Wed, 21 Oct 2015 07:28:00 GMT", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate: a=1", "tracestate: b=2", "X-Request-Id: r-42", "Prefer: handling=strict"), Interaction.READ)
            .type("Patient").id("1")
            // conditional-read headers stay behind: a 304 would tell of a record without showing (and charging) it
            .forward("traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate: a=1,b=2", "X-Request-Id: r-42"),
        ok("invalid traceparent dropped", get("/fhir/Patient/1", "traceparent: nonsense"), Interaction.READ).type("Patient").id("1")
            .forward(),
        ok("Content-Length that matches", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "Content-Length: " + PATIENT.length()),
            Interaction.CREATE).type("Patient"),
        ok("chunked without Content-Length", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "Transfer-Encoding: chunked"),
            Interaction.CREATE).type("Patient"),
        ok("Prefer return and async", get("/fhir/Patient/$everything", "Prefer: return=representation, respond-async"),
            Interaction.OPERATION_TYPE).type("Patient").op("everything").async().forward("Prefer: return=representation"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void classifiesValidRequests(Ok ok) {
    FhirRequest r = parsed(ok.raw);
    assertThat(r.interaction()).isEqualTo(ok.interaction);
    assertThat(r.method()).isEqualTo(ok.raw.method());
    assertThat(r.resourceType()).isEqualTo(ok.type);
    assertThat(r.id()).isEqualTo(ok.id);
    assertThat(r.versionId()).isEqualTo(ok.versionId);
    assertThat(r.compartment() == null ? null : r.compartment().toString()).isEqualTo(ok.compartment);
    assertThat(r.operation()).isEqualTo(ok.operation);
    assertThat(r.conditional()).isEqualTo(ok.conditional);
    assertThat(r.params()).isEqualTo(ok.params);
    assertThat(r.ifNoneExist()).isEqualTo(ok.ifNoneExist);
    assertThat(r.responseFormat()).isEqualTo(ok.format);
    assertThat(r.pretty()).isEqualTo(ok.pretty);
    assertThat(r.respondAsync()).isEqualTo(ok.async);
    assertThat(r.pageToken()).isEqualTo(ok.pageToken);
    if (ok.forward != null) {
      assertThat(r.forwardHeaders()).extracting(h -> h.name() + ": " + h.value()).containsExactlyElementsOf(ok.forward);
    }
    if (ok.bodyContains != null) {
      assertThat(new String(r.body().bytes(), StandardCharsets.UTF_8)).contains(ok.bodyContains);
      assertThat(r.body().contentType()).isNotNull();
    }
    if (ok.entries != null) {
      assertThat(r.entries()).extracting(e -> e.request().interaction()).containsExactlyElementsOf(ok.entries);
    } else {
      assertThat(r.entries()).isEmpty();
    }
  }

  record Bad(String name, RawRequest raw, int status) {
    @Override
    public String toString() {
      return name + " -> " + status;
    }
  }

  static Bad bad(String name, RawRequest raw, int status) {
    return new Bad(name, raw, status);
  }

  static Stream<Bad> refusedShapes() {
    String tooMany = String.join("&", java.util.Collections.nCopies(201, "a=1"));
    return Stream.of(
        // methods
        bad("TRACE", req("TRACE", "/fhir/Patient/1", ""), 405),
        bad("CONNECT", req("CONNECT", "/fhir/Patient/1", ""), 405),
        bad("HEAD", req("HEAD", "/fhir/Patient/1", ""), 405),
        bad("OPTIONS", req("OPTIONS", "/fhir/metadata", ""), 405),
        bad("lower-case method", req("get", "/fhir/Patient/1", ""), 405),
        bad("DELETE on base", req("DELETE", "/fhir", ""), 405),
        bad("PUT on base", req("PUT", "/fhir", PATIENT, FHIR_JSON), 405),
        bad("PUT on metadata", req("PUT", "/fhir/metadata", PATIENT, FHIR_JSON), 405),
        bad("POST on instance", req("POST", "/fhir/Patient/1", PATIENT, FHIR_JSON), 405),
        bad("DELETE on history", req("DELETE", "/fhir/Patient/1/_history", ""), 405),
        bad("PUT on search", req("PUT", "/fhir/Patient/_search", ""), 405),
        bad("DELETE on compartment", req("DELETE", "/fhir/Patient/1/Observation", ""), 405),
        bad("POST on vread", req("POST", "/fhir/Patient/1/_history/2", PATIENT, FHIR_JSON), 405),
        // DELETE addresses one operation, a bulk export's status URL (its cancel), and no other
        bad("DELETE on an operation", req("DELETE", "/fhir/$export?_type=Patient", ""), 405),
        bad("DELETE on a type operation", req("DELETE", "/fhir/Patient/$export-poll-status?_jobId=j1", ""), 405),
        bad("DELETE on an instance operation", req("DELETE", "/fhir/Patient/1/$everything", ""), 405),
        // a count of an operation's answer in its body: HAPI FHIR's JPA server answers a zero _count there with the
        // number of resources in the whole server (EverythingCountJpaIT); in the query, fhirwall forwards it as
        // _summary=count (policy.CountOnlyOperationsTest)
        bad("zero _count in an operation body", req("POST", "/fhir/Patient/1/$everything",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_count\",\"valueInteger\":0}]}", FHIR_JSON), 400),
        bad("negative _count in an operation body", req("POST", "/fhir/Patient/$everything",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_count\",\"valueInteger\":-1}]}", FHIR_JSON), 400),
        bad("_count as a string in an operation body", req("POST", "/fhir/Patient/1/$everything",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_count\",\"valueString\":\"00\"}]}", FHIR_JSON), 400),
        bad("summary count in an operation body", req("POST", "/fhir/Patient/1/$everything",
            "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_summary\",\"valueCode\":\"count\"}]}", FHIR_JSON), 400),
        bad("PUT on the status URL", req("PUT", "/fhir/$export-poll-status?_jobId=j1", ""), 405),
        bad("cancel with a body", req("DELETE", "/fhir/$export-poll-status?_jobId=j1",
            "{\"resourceType\":\"Parameters\"}", FHIR_JSON), 400),
        bad("cancel inside a batch", req("POST", "/fhir", entry("DELETE", "$export-poll-status?_jobId=j1"), FHIR_JSON), 405),
        // target form
        bad("not under base", get("/other/Patient/1"), 404),
        bad("base prefix only", get("/fhirx/Patient/1"), 404),
        bad("root with base", get("/"), 404),
        bad("absolute form", get("http://evil.example/fhir/Patient/1"), 400),
        bad("asterisk form", req("OPTIONS", "*", ""), 405),
        bad("asterisk form GET", get("*"), 400),
        bad("fragment", get("/fhir/Patient/1#x"), 400),
        bad("non-ASCII in target", get("/fhir/Patient?name=Müller"), 400),
        bad("space in target", get("/fhir/Patient?name=a b"), 400),
        bad("control char in target", get("/fhir/Patient/1\u0000"), 400),
        bad("target too long", get("/fhir/Patient?name=" + "a".repeat(9000)), 414),
        // path canonical form
        bad("dot-dot segment", get("/fhir/../fhir/Patient/1"), 400),
        bad("dot segment", get("/fhir/Patient/./1"), 400),
        bad("trailing dot-dot", get("/fhir/Patient/1/.."), 400),
        bad("encoded dot-dot", get("/fhir/Patient/%2e%2e/1"), 400),
        bad("encoded slash", get("/fhir/Patient%2F1"), 400),
        bad("encoded dollar", get("/fhir/Patient/%24everything"), 400),
        bad("double encoding in path", get("/fhir/Patient/%252e"), 400),
        bad("encoded letter in type", get("/fhir/Pat%69ent/1"), 400),
        bad("double slash", get("/fhir//Patient/1"), 400),
        bad("double slash in middle", get("/fhir/Patient//1"), 400),
        bad("leading double slash", get("//fhir/Patient/1"), 400),
        bad("trailing slash", get("/fhir/Patient/1/"), 400),
        bad("matrix param on type", get("/fhir/Patient;x=1/1"), 400),
        bad("matrix param on id", get("/fhir/Patient/1;jsessionid=abc"), 400),
        bad("backslash in path", get("/fhir/Patient\\1"), 400),
        bad("unknown resource type", get("/fhir/Foo/1"), 400),
        bad("wrong-case type", get("/fhir/patient/1"), 400),
        bad("upper-case type", get("/fhir/PATIENT"), 400),
        bad("wrong-case compartment target", get("/fhir/Patient/1/observation"), 400),
        bad("unknown lower-case path", get("/fhir/foo"), 404),
        bad("Metadata wrong case", get("/fhir/Metadata"), 400),
        bad("invalid id underscore", get("/fhir/Patient/a_b"), 400),
        bad("id too long", get("/fhir/Patient/" + "a".repeat(65)), 400),
        bad("id of dots", get("/fhir/Patient/..."), 400),
        bad("invalid version id", get("/fhir/Patient/1/_history/x_y"), 400),
        bad("bare dollar", get("/fhir/Patient/$"), 400),
        bad("operation starting with digit", get("/fhir/$9x"), 400),
        bad("too many segments", get("/fhir/Patient/1/_history/2/extra"), 404),
        bad("instance _search", get("/fhir/Patient/1/_search"), 404),
        bad("not a compartment", get("/fhir/Observation/1/Patient"), 400),
        bad("star compartment", get("/fhir/Patient/1/*"), 400),
        bad("operation on version", get("/fhir/Patient/1/_history/2/$meta"), 404),
        // parameters
        bad("encoded param name", get("/fhir/Patient?%5Fcount=10"), 400),
        bad("encoded colon in name", get("/fhir/Patient?name%3Aexact=x"), 400),
        bad("plus in name", get("/fhir/Patient?na+me=x"), 400),
        bad("odd char in name", get("/fhir/Patient?na!me=x"), 400),
        bad("duplicate _count", get("/fhir/Patient?_count=10&_count=1000"), 400),
        bad("duplicate _format", get("/fhir/Patient?_format=json&_format=xml"), 400),
        bad("duplicate _summary", get("/fhir/Patient?_summary=true&_summary=false"), 400),
        bad("duplicate _elements", get("/fhir/Patient?_elements=id&_elements=name"), 400),
        bad("duplicate _sort", get("/fhir/Patient?_sort=name&_sort=-name"), 400),
        bad("duplicate _total", get("/fhir/Patient?_total=none&_total=accurate"), 400),
        bad("duplicate _contained", get("/fhir/Patient?_contained=true&_contained=false"), 400),
        bad("duplicate _pretty", get("/fhir/Patient?_pretty=true&_pretty=false"), 400),
        bad("wrong-case _count", get("/fhir/Patient?_COUNT=5"), 400),
        bad("wrong-case _has", get("/fhir/Patient?_HAS:Observation:subject:code=1"), 400),
        bad("modifier on _count", get("/fhir/Patient?_count:x=5"), 400),
        bad("_getpages", get("/fhir?_getpages=abc&_getpagesoffset=20"), 403),
        bad("_getpages on type", get("/fhir/Patient?_getpages=abc"), 403),
        bad("_getpagesoffset", get("/fhir/Patient?name=x&_getpagesoffset=20"), 403),
        bad("_offset", get("/fhir/Patient?_offset=100"), 403),
        bad("_pageId", get("/fhir/Patient?_pageId=abc"), 403),
        bad("_bundletype", get("/fhir/Patient?_bundletype=searchset"), 403),
        bad("upper-case _GETPAGES", get("/fhir/Patient?_GETPAGES=abc"), 403),
        bad("_getpages in form body", req("POST", "/fhir/Patient/_search", "_getpages=abc", FORM), 403),
        bad("_fwpage off base", get("/fhir/Patient?_fwpage=abc"), 403),
        bad("_fwpage with other params", get("/fhir?_fwpage=abc&_count=10"), 400),
        bad("_fwpage twice", get("/fhir?_fwpage=abc&_fwpage=def"), 400),
        bad("_fwpage wrong case", get("/fhir?_FWPAGE=abc"), 400),
        bad("_fwpage bad token", get("/fhir?_fwpage=a.b"), 403),
        bad("_fwpage empty", get("/fhir?_fwpage="), 403),
        bad("_fwpage POST", req("POST", "/fhir?_fwpage=abc", ""), 405),
        bad("_method", get("/fhir/Patient?_method=DELETE"), 400),
        // Adversarial sweep: a token in the URL reached the policy (and, for roles allowing any parameter, the EPR).
        bad("access_token in the query", get("/fhir/Patient?name=x&access_token=eyJ.eyJ.sig"), 400),
        bad("access_token in a form", req("POST", "/fhir/Patient/_search", "access_token=eyJ.eyJ.sig", FORM), 400),
        bad("invalid escape", get("/fhir/Patient?name=%G1"), 400),
        bad("truncated escape", get("/fhir/Patient?name=%4"), 400),
        bad("invalid UTF-8", get("/fhir/Patient?name=%C3%28"), 400),
        bad("overlong UTF-8", get("/fhir/Patient?name=%C0%AF"), 400),
        bad("decoded NUL", get("/fhir/Patient?name=a%00b"), 400),
        bad("decoded newline", get("/fhir/Patient?name=a%0Ab"), 400),
        bad("double-encoded value", get("/fhir/Patient?name=%2541"), 400),
        bad("semicolon in query", get("/fhir/Patient?name=a;b"), 400),
        bad("quote in query", get("/fhir/Patient?name=\"a\""), 400),
        bad("empty param", get("/fhir/Patient?name=a&&b=c"), 400),
        bad("trailing ampersand", get("/fhir/Patient?name=a&"), 400),
        bad("param without =", get("/fhir/Patient?name"), 400),
        bad("empty name", get("/fhir/Patient?=x"), 400),
        bad("too many params", get("/fhir/Patient?" + tooMany), 400),
        bad("unknown _format", get("/fhir/Patient/1?_format=html"), 400),
        bad("bad _pretty", get("/fhir/Patient/1?_pretty=yes"), 400),
        // Adversarial sweep: _summary=foo was forwarded. HAPI reads _summary case-insensitively and as a comma list
        // (TEXT, foo,text: text summary), which fhirwall took for no projection and left to the EPR, whose summary
        // drops the references that name patients before fhirwall reads the answer.
        bad("unknown _summary", get("/fhir/Patient?_summary=foo"), 400),
        bad("unknown _summary on read", get("/fhir/Patient/1?_summary=foo"), 400),
        bad("upper-case _summary", get("/fhir/Observation?_summary=TEXT"), 400),
        bad("_summary list", get("/fhir/Observation?_summary=text,data"), 400),
        bad("_summary list behind an unknown value", get("/fhir/Observation?_summary=foo,text"), 400),
        bad("empty _summary", get("/fhir/Observation?_summary="), 400),
        bad("unknown _summary in a form", req("POST", "/fhir/Observation/_search", "_summary=Text", FORM), 400),
        bad("unknown _summary in a batch entry", req("POST", "/fhir", entry("GET", "Observation?_summary=TEXT"), FHIR_JSON), 400),
        // Adversarial sweep 5: HAPI FHIR's JPA server reads a modifier it does not know, or a known one in another case,
        // as no modifier at all (name:Contains=a and name:EXACT=a are name=a there, 27 of 200 patients), and fhirwall took
        // any modifier starting with a capital for a resource type, so search.modifiers never saw it. What the EPR does
        // with such a name is its own guess: fhirwall refuses it.
        bad("modifier in another case", get("/fhir/Patient?name:Contains=abc"), 400),
        bad("modifier in upper case", get("/fhir/Patient?name:EXACT=abc"), 400),
        bad(":missing in another case", get("/fhir/Patient?_id:Missing=false"), 400),
        bad(":not in another case", get("/fhir/Patient?identifier:Not=a"), 400),
        bad("unknown modifier", get("/fhir/Patient?name:foo=abc"), 400),
        bad("empty modifier", get("/fhir/Patient?name:=abc"), 400),
        bad("two modifiers", get("/fhir/Patient?name:contains:exact=abc"), 400),
        bad("type modifier in lower case", get("/fhir/Observation?subject:patient=1"), 400),
        bad("type modifier in upper case", get("/fhir/Observation?subject:PATIENT=1"), 400),
        bad("type modifier no type", get("/fhir/Observation?subject:Foo=1"), 400),
        bad("odd modifier in a chain", get("/fhir/Observation?subject:Patient.name:Exact=abc"), 400),
        bad("odd modifier in a form", req("POST", "/fhir/Patient/_search", "name:Contains=abc", FORM), 400),
        bad("odd modifier in If-None-Exist", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "If-None-Exist: identifier:Not=a"), 400),
        bad("odd modifier on a conditional delete", req("DELETE", "/fhir/Patient?identifier:Not=a", ""), 400),
        bad("odd modifier in a batch entry", req("POST", "/fhir", entry("GET", "Patient?name:Contains=abc"), FHIR_JSON), 400),
        bad("odd include modifier", get("/fhir/Patient?_id=1&_include:Iterate=Patient:link"), 400),
        // Adversarial sweep 6: every link of a _has chain is held to the same rule, its final parameter's modifier included.
        bad("odd modifier at the end of _has", get("/fhir/Patient?_has:Observation:patient:code:Exact=1"), 400),
        bad("unknown modifier at the end of _has", get("/fhir/Patient?_has:Observation:patient:code:foo=1"), 400),
        bad("odd modifier in a chain inside _has", get("/fhir/Patient?_has:Observation:patient:subject:Patient.name:Contains=a"), 400),
        bad("odd modifier in a nested _has", get("/fhir/Patient?_has:Observation:patient:_has:Condition:subject:code:Text=a"), 400),
        bad("wrong-case nested _has", get("/fhir/Patient?_has:Observation:patient:_HAS:Condition:subject:code=a"), 400),
        bad("wrong-case type in _has", get("/fhir/Patient?_has:observation:patient:code=1"), 400),
        bad("unknown type in _has", get("/fhir/Patient?_has:Foo:patient:code=1"), 400),
        bad("_has without its parameter", get("/fhir/Patient?_has:Observation:patient=1"), 400),
        bad("_has with an empty reference", get("/fhir/Patient?_has:Observation::code=1"), 400),
        bad("_has with a modifier on its reference", get("/fhir/Patient?_has:Observation:patient.x:code=1"), 400),
        bad("odd _has modifier in a form", req("POST", "/fhir/Patient/_search", "_has:Observation:patient:code:Exact=1", FORM), 400),
        bad("odd _has modifier in If-None-Exist", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON,
            "If-None-Exist: _has:Observation:patient:code:Exact=1"), 400),
        bad("odd _has modifier on a conditional delete", req("DELETE", "/fhir/Patient?_has:Observation:patient:code:Exact=1", ""), 400),
        bad("odd _has modifier in a batch entry", req("POST", "/fhir", entry("GET", "Patient?_has:Observation:patient:code:Exact=1"),
            FHIR_JSON), 400),
        // Adversarial sweep 6: a conditional reference in a body is a search the EPR runs when it writes; its criteria are
        // read like If-None-Exist's (and refused alike), whatever element holds it.
        bad("odd modifier in a conditional reference", req("POST", "/fhir/Observation", observation("Patient?name:Contains=abc"),
            FHIR_JSON), 400),
        bad("odd _has modifier in a conditional reference", req("POST", "/fhir/Observation",
            observation("Patient?_has:Observation:patient:code:Exact=1"), FHIR_JSON), 400),
        bad("odd modifier in a contained conditional reference", req("POST", "/fhir/Observation",
            "{\"resourceType\":\"Observation\",\"contained\":[{\"resourceType\":\"Provenance\",\"id\":\"p\",\"target\":[{"
                + "\"reference\":\"Patient?name:EXACT=a\"}]}]}", FHIR_JSON), 400),
        bad("odd modifier in an extension's conditional reference", req("PUT", "/fhir/Observation/1",
            "{\"resourceType\":\"Observation\",\"id\":\"1\",\"extension\":[{\"url\":\"urn:x\",\"valueReference\":{"
                + "\"reference\":\"Patient?identifier:Not=a\"}}]}", FHIR_JSON), 400),
        bad("conditional reference to an unknown type", req("POST", "/fhir/Observation", observation("Foo?identifier=a"),
            FHIR_JSON), 400),
        bad("conditional reference to a wrong-case type", req("POST", "/fhir/Observation", observation("patient?identifier=a"),
            FHIR_JSON), 400),
        bad("conditional reference without criteria", req("POST", "/fhir/Observation", observation("Patient?"), FHIR_JSON), 400),
        bad("conditional reference with _format only", req("POST", "/fhir/Observation", observation("Patient?_format=json"),
            FHIR_JSON), 400),
        bad("conditional reference with hand-made paging", req("POST", "/fhir/Observation",
            observation("Patient?_getpages=x"), FHIR_JSON), 403),
        bad("conditional reference with a space", req("POST", "/fhir/Observation", observation("Patient?name=a b"), FHIR_JSON), 400),
        bad("conditional reference with a fragment", req("POST", "/fhir/Observation", observation("Patient?name=abc#x"),
            FHIR_JSON), 400),
        bad("odd modifier in an absolute conditional reference", req("POST", "/fhir/Observation",
            observation("http://epr.example/fhir/Patient?name:Contains=abc"), FHIR_JSON), 400),
        bad("odd modifier in a transaction entry's conditional reference", req("POST", "/fhir",
            "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
                + observation("Patient?name:Contains=abc") + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}",
            FHIR_JSON), 400),
        bad("odd modifier in a JSON Patch's conditional reference", req("PATCH", "/fhir/Observation/1",
            "[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":\"Patient?name:Contains=abc\"}]",
            "Content-Type: application/json-patch+json"), 400),
        bad("search param on read", get("/fhir/Patient/1?name=x"), 400),
        bad("params on create", req("POST", "/fhir/Patient?name=x", PATIENT, FHIR_JSON), 400),
        bad("params on instance update", req("PUT", "/fhir/Patient/1?name=x", PATIENT_1, FHIR_JSON), 400),
        bad("conditional delete without criteria", req("DELETE", "/fhir/Patient", ""), 400),
        bad("conditional delete with only _format", req("DELETE", "/fhir/Patient?_format=json", ""), 400),
        bad("conditional update without criteria", req("PUT", "/fhir/Patient", PATIENT, FHIR_JSON), 400),
        bad("param in URL and form", req("POST", "/fhir/Patient/_search?name=a", "name=b", FORM), 400),
        bad("non-ASCII form body", req("POST", "/fhir/Patient/_search", "name=Müller", FORM), 400),
        // headers
        // (Host, Content-Length and Transfer-Encoding framing is checked once, at the edge: RequestSmugglingTest)
        bad("X-HTTP-Method-Override", req("POST", "/fhir/Patient/_search", "", "X-HTTP-Method-Override: DELETE"), 400),
        bad("X-Method-Override", get("/fhir/Patient/1", "X-Method-Override: DELETE"), 400),
        bad("Upgrade", get("/fhir/Patient/1", "Upgrade: websocket"), 400),
        bad("Prefer handling lenient", get("/fhir/Patient?nmae=x", "Prefer: handling=lenient"), 400),
        bad("conflicting Prefer return", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "Prefer: return=minimal",
            "Prefer: return=representation"), 400),
        bad("CRLF in header value", get("/fhir/Patient/1", "X-Request-Id: a\r\nX-Evil: 1"), 400),
        bad("non-ASCII header value", get("/fhir/Patient/1", "X-Request-Id: é"), 400),
        bad("duplicate If-Match", req("PUT", "/fhir/Patient/1", PATIENT_1, FHIR_JSON, "If-Match: W/\"1\"", "If-Match: W/\"2\""), 400),
        bad("If-None-Exist on update", req("PUT", "/fhir/Patient/1", PATIENT_1, FHIR_JSON, "If-None-Exist: identifier=a"), 400),
        bad("If-None-Exist with _getpages", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "If-None-Exist: _getpages=x"), 403),
        bad("If-None-Exist for other type", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "If-None-Exist: Observation?code=a"), 400),
        // bodies
        bad("body on GET", req("GET", "/fhir/Patient/1", "x"), 400),
        bad("body on DELETE", req("DELETE", "/fhir/Patient/1", "x", FHIR_JSON), 400),
        bad("create text/plain", req("POST", "/fhir/Patient", PATIENT, "Content-Type: text/plain"), 415),
        bad("create without Content-Type", req("POST", "/fhir/Patient", PATIENT), 415),
        bad("create latin-1 charset", req("POST", "/fhir/Patient", PATIENT, "Content-Type: application/fhir+json; charset=ISO-8859-1"), 415),
        bad("create gzip", req("POST", "/fhir/Patient", PATIENT, FHIR_JSON, "Content-Encoding: gzip"), 415),
        bad("create form body", req("POST", "/fhir/Patient", "name=x", FORM), 415),
        bad("binary create", req("PUT", "/fhir/Binary/1", "PNG", "Content-Type: image/png"), 415),
        bad("create broken JSON", req("POST", "/fhir/Patient", "{\"resourceType\":", FHIR_JSON), 400),
        bad("create duplicate keys", req("POST", "/fhir/Patient", "{\"resourceType\":\"Patient\",\"active\":true,\"active\":false}", FHIR_JSON), 400),
        bad("create trailing data", req("POST", "/fhir/Patient", PATIENT + "{}", FHIR_JSON), 400),
        bad("create JSON array", req("POST", "/fhir/Patient", "[]", FHIR_JSON), 400),
        bad("create type mismatch", req("POST", "/fhir/Observation", PATIENT, FHIR_JSON), 400),
        bad("create empty body", req("POST", "/fhir/Patient", "", FHIR_JSON), 400),
        bad("create with BOM", req("POST", "/fhir/Patient", "\uFEFF" + PATIENT, FHIR_JSON), 400),
        bad("update id mismatch", req("PUT", "/fhir/Patient/2", PATIENT_1, FHIR_JSON), 400),
        bad("XML broken", req("PUT", "/fhir/Patient/1", "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/>", FHIR_XML), 400),
        bad("XML with DOCTYPE", req("PUT", "/fhir/Patient/1", "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + PATIENT_XML, FHIR_XML), 400),
        bad("XML unknown element", req("PUT", "/fhir/Patient/1",
            "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/><secret value=\"x\"/></Patient>", FHIR_XML), 400),
        bad("body too large", req("POST", "/fhir/Patient", "{\"resourceType\":\"Patient\",\"x\":\"" + "a".repeat(10 * 1024 * 1024) + "\"}", FHIR_JSON), 413),
        bad("POST _search with JSON", req("POST", "/fhir/Patient/_search", PATIENT, FHIR_JSON), 415),
        bad("xml-patch", req("PATCH", "/fhir/Patient/1", "<diff/>", "Content-Type: application/xml-patch+json"), 415),
        bad("json patch not an array", req("PATCH", "/fhir/Patient/1", "{}", "Content-Type: application/json-patch+json"), 400),
        bad("fhirpath patch not Parameters", req("PATCH", "/fhir/Patient/1", PATIENT, FHIR_JSON), 400),
        bad("operation with form body", req("POST", "/fhir/Patient/$match", "a=b", FORM), 415),
        // bundles
        bad("POST base with a Patient", req("POST", "/fhir", PATIENT, FHIR_JSON), 400),
        bad("POST base empty", req("POST", "/fhir", "", FHIR_JSON), 400),
        bad("bundle searchset", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}", FHIR_JSON), 400),
        bad("bundle broken JSON", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[", FHIR_JSON), 400),
        bad("bundle entry not array", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":{}}", FHIR_JSON), 400),
        bad("bundle entry absolute url", req("POST", "/fhir", entry("GET", "http://evil/fhir/Patient/1"), FHIR_JSON), 400),
        bad("bundle entry leading slash", req("POST", "/fhir", entry("GET", "/Patient/1"), FHIR_JSON), 400),
        bad("bundle entry wrong-case type", req("POST", "/fhir", entry("GET", "patient/1"), FHIR_JSON), 400),
        bad("bundle entry dot segment", req("POST", "/fhir", entry("GET", "Patient/../Observation/1"), FHIR_JSON), 400),
        bad("bundle entry nested batch", req("POST", "/fhir", entry("POST", ""), FHIR_JSON), 400),
        bad("bundle entry system search", req("POST", "/fhir", entry("GET", "?_type=Patient"), FHIR_JSON), 400),
        bad("bundle entry _getpages", req("POST", "/fhir", entry("GET", "Patient?_getpages=x"), FHIR_JSON), 403),
        bad("bundle entry _fwpage", req("POST", "/fhir", entry("GET", "?_fwpage=x"), FHIR_JSON), 400),
        bad("bundle entry HEAD", req("POST", "/fhir", entry("HEAD", "Patient/1"), FHIR_JSON), 400),
        bad("bundle entry lower-case method", req("POST", "/fhir", entry("get", "Patient/1"), FHIR_JSON), 400),
        bad("bundle entry POST _search", req("POST", "/fhir", entry("POST", "Patient/_search"), FHIR_JSON), 400),
        bad("bundle entry without request", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{}]}", FHIR_JSON), 400),
        bad("bundle entry GET with resource", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
            + PATIENT + ",\"request\":{\"method\":\"GET\",\"url\":\"Patient/1\"}}]}", FHIR_JSON), 400),
        bad("bundle entry create type mismatch", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
            + PATIENT + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}", FHIR_JSON), 400),
        bad("bundle too many entries", req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
            + String.join(",", java.util.Collections.nCopies(1001, "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1\"}}"))
            + "]}", FHIR_JSON), 400));
  }

  static String observation(String subject) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{"
        + "\"reference\":\"" + subject + "\"}}";
  }

  static String entry(String method, String url) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"" + method
        + "\",\"url\":\"" + url + "\"}}]}";
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedShapes")
  void refusesMalformedRequests(Bad bad) {
    Refusal r = refused(bad.raw);
    assertThat(r.status()).isEqualTo(bad.status);
    assertThat(r.diagnostics()).isNotBlank();
  }

  @Test
  void tablesCoverAtLeastEightyShapes() {
    assertThat(valid().count() + refusedShapes().count()).isGreaterThanOrEqualTo(80);
  }

  @Test
  void diagnosticsNeverEchoValues() {
    String secret = "Zorglub";
    List<RawRequest> requests = List.of(
        get("/fhir/Patient?_summary=" + secret),
        get("/fhir/Patient?name=" + secret + "%00"),
        get("/fhir/Patient?name=" + secret + ";x"),
        get("/fhir/Patient?name=%2541" + secret),
        get("/fhir/" + secret + "/1"),
        get("/fhir/Patient/" + secret + "_x"),
        req("POST", "/fhir/Patient", "{\"resourceType\":\"Patient\",\"name\":\"" + secret + "\"", FHIR_JSON),
        req("PUT", "/fhir/Patient/1", "<Patient xmlns=\"http://hl7.org/fhir\"><" + secret + "/></Patient>", FHIR_XML));
    for (RawRequest raw : requests) {
      assertThat(refused(raw).diagnostics()).doesNotContain(secret);
    }
  }

  @Test
  void headerRefusalsKeepTheConnection() {
    assertThat(refused(get("/fhir/Patient/1", "Upgrade: websocket")).closeConnection()).isFalse();
    assertThat(refused(get("/fhir/Patient/1", "X-Method-Override: DELETE")).closeConnection()).isFalse();
  }

  @Test
  void anHttp2UpgradeOfferIsDeclinedNotRefused() {
    FhirRequest r = Requests.parsed(get("/fhir/Patient/1", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c",
        "HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA"));
    assertThat(r.interaction()).isEqualTo(Interaction.READ);
    assertThat(r.forwardHeaders()).extracting(RawRequest.Header::name).doesNotContain("Upgrade", "HTTP2-Settings", "Connection");
  }

  @Test
  void methodRefusalsNameTheAllowedMethods() {
    assertThat(refused(req("DELETE", "/fhir", "")).headers()).containsEntry("Allow", "GET, POST");
    assertThat(refused(req("TRACE", "/fhir/Patient/1", "")).headers()).containsKey("Allow");
  }

  @Test
  void hapiPagingRefusalIsSecurity() {
    assertThat(refused(get("/fhir?_getpages=abc")).code()).isEqualTo(IssueType.FORBIDDEN);
  }

  @Test
  void xmlBodyIsForwardedAsHapiJson() {
    FhirRequest r = parsed(req("PUT", "/fhir/Patient/1", PATIENT_XML, FHIR_XML));
    org.hl7.fhir.r4.model.Patient p = Requests.CTX.newJsonParser()
        .parseResource(org.hl7.fhir.r4.model.Patient.class, new String(r.body().bytes(), StandardCharsets.UTF_8));
    assertThat(p.getIdElement().getIdPart()).isEqualTo("1");
    assertThat(p.getNameFirstRep().getFamily()).isEqualTo("Smith");
    assertThat(r.body().contentType()).isEqualTo(Format.JSON.contentType());
  }

  @Test
  void jsonBodyKeepsDecimalPrecision() {
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"valueQuantity\":{\"value\":1.50}}";
    FhirRequest r = parsed(req("POST", "/fhir/Observation", obs, FHIR_JSON));
    assertThat(new String(r.body().bytes(), StandardCharsets.UTF_8)).contains("\"value\":1.50");
  }

  @Test
  void batchEntriesAreClassifiedAsIfSentAlone() {
    FhirRequest r = parsed(req("POST", "/fhir", BATCH, FHIR_JSON));
    FhirRequest.BundleEntry search = r.entries().get(1);
    assertThat(search.index()).isEqualTo(1);
    assertThat(search.request().resourceType()).isEqualTo("Observation");
    assertThat(search.request().params()).isEqualTo(params("subject", "Patient/1", "_count", "10"));
    FhirRequest.BundleEntry create = r.entries().get(2);
    assertThat(create.fullUrl()).isEqualTo("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a");
    assertThat(create.request().conditional()).isTrue();
    assertThat(create.request().ifNoneExist()).isEqualTo(params("identifier", "http://x|1"));
    assertThat(create.resourceJson()).contains("\"family\":\"Smith\"");
    assertThat(r.entries().get(0).resourceJson()).isNull();

    FhirRequest tx = parsed(req("POST", "/fhir", TRANSACTION, FHIR_JSON));
    assertThat(tx.entries().get(0).request().forwardHeaders())
        .extracting(h -> h.name() + ": " + h.value()).contains("If-Match: W/\"3\"");
    assertThat(tx.entries().get(2).request().conditional()).isTrue();
  }

  /**
   * Adversarial sweep 6: a reference with a query ({@code Patient?identifier=...}) in a body is resolved by HAPI FHIR by
   * searching, wherever it stands (nested, contained, in an extension, in a transaction entry, absolute on any base,
   * {@code Patient/?...}); each is read into its type and criteria for the policy to judge. {@code urn:uuid:} and
   * {@code #contained} references and plain ones are no search.
   */
  @Test
  void conditionalReferencesInABodyAreReadAsSearches() {
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient?identifier=http://x|123\"},"
        + "\"performer\":[{\"reference\":\"Practitioner/7\"},{\"reference\":\"#c\"},{\"reference\":\"urn:uuid:1\"}],"
        + "\"contained\":[{\"resourceType\":\"Provenance\",\"id\":\"c\",\"target\":[{\"reference\":"
        + "\"Observation?subject.name=smith&code=a\"}]}],"
        + "\"extension\":[{\"url\":\"urn:x\",\"valueReference\":{\"reference\":\"https://epr.example/fhir/Patient/?name=smith"
        + "&birthdate=1970-01-01\"}}]}";
    FhirRequest r = parsed(req("POST", "/fhir/Observation", obs, FHIR_JSON));
    assertThat(r.body().conditionalReferences()).containsExactlyInAnyOrder(
        new FhirRequest.ConditionalReference("Patient", params("identifier", "http://x|123")),
        new FhirRequest.ConditionalReference("Observation", params("subject.name", "smith", "code", "a")),
        new FhirRequest.ConditionalReference("Patient", params("name", "smith", "birthdate", "1970-01-01")));

    FhirRequest tx = parsed(req("POST", "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"resource\":" + observation("Patient?_has:Observation:patient:code=a") + ",\"request\":{\"method\":\"PUT\","
        + "\"url\":\"Observation?identifier=b\"}}]}", FHIR_JSON));
    assertThat(tx.entries().get(0).request().body().conditionalReferences()).containsExactly(
        new FhirRequest.ConditionalReference("Patient", params("_has:Observation:patient:code", "a")));

    FhirRequest patch = parsed(req("PATCH", "/fhir/Observation/1", "[{\"op\":\"add\",\"path\":\"/subject\",\"value\":"
        + "{\"reference\":\"Patient?name=smith\"}},{\"op\":\"replace\",\"path\":\"/focus/0/reference\",\"value\":"
        + "\"Group?name=abc\"}]", "Content-Type: application/json-patch+json"));
    assertThat(patch.body().conditionalReferences()).containsExactly(
        new FhirRequest.ConditionalReference("Patient", params("name", "smith")),
        new FhirRequest.ConditionalReference("Group", params("name", "abc")));

    assertThat(parsed(req("POST", "/fhir/Observation", observation("Patient/1"), FHIR_JSON)).body().conditionalReferences())
        .isEmpty();
  }

  @Test
  void bundleEntryRefusalNamesTheEntry() {
    Refusal r = refused(req("POST", "/fhir", entry("GET", "patient/1"), FHIR_JSON));
    assertThat(r.diagnostics()).startsWith("Bundle entry 0:");
  }

  @Test
  void emptyBasePathServesAtRoot() {
    RequestParser root = new RequestParser(Requests.CTX, ParserSettings.defaults(""));
    assertThat(parsed(root, get("/Patient/1")).interaction()).isEqualTo(Interaction.READ);
    assertThat(parsed(root, get("/")).interaction()).isEqualTo(Interaction.SEARCH_SYSTEM);
    assertThat(parsed(root, get("/?_fwpage=x")).interaction()).isEqualTo(Interaction.PAGE);
    assertThat(root.parse(get("/fhir/Patient/1"))).isInstanceOf(ParseResult.Rejected.class);
  }

  @Test
  void neverThrowsOnJunk() {
    List<String> targets = new ArrayList<>(List.of("", "?", "/fhir?&", "/fhir/%", "/fhir/Patient?%", "/fhir/Patient?a=%",
        "/fhir/$", "/fhir/Patient/1/_history/", "/fhir/\u00ff", "/fhir/Patient?a=%FF%FE", "/fhir/Patient?=&=",
        "/fhir/Patient/1/$x/$y", "/fhir/Patient/1/Observation/_search/x"));
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < 300; i++) {
      char[] cs = new char[random.nextInt(40)];
      for (int j = 0; j < cs.length; j++) {
        cs[j] = "/fhir?&=%2eP$_.;#aZ9\\:|,+".charAt(random.nextInt(25));
      }
      targets.add(new String(cs));
    }
    for (String t : targets) {
      for (String m : List.of("GET", "POST", "PUT", "PATCH", "DELETE")) {
        assertThat(Requests.PARSER.parse(req(m, t, "{", FHIR_JSON))).isNotNull();
        assertThat(Requests.PARSER.parse(req(m, t, "<x", FHIR_XML))).isNotNull();
      }
    }
    String nested = "[".repeat(5000) + "]".repeat(5000);
    assertThat(Requests.PARSER.parse(req("PATCH", "/fhir/Patient/1", nested, "Content-Type: application/json-patch+json")))
        .isInstanceOf(ParseResult.Rejected.class);
  }

  static Stream<Arguments> formats() {
    return Stream.of(
        Arguments.of("json", Format.JSON), Arguments.of("application/json", Format.JSON),
        Arguments.of("application/fhir+json", Format.JSON), Arguments.of("application/json+fhir", Format.JSON),
        Arguments.of("xml", Format.XML), Arguments.of("text/xml", Format.XML), Arguments.of("application/xml", Format.XML),
        Arguments.of("application/fhir+xml", Format.XML), Arguments.of("ndjson", Format.NDJSON),
        Arguments.of("application/fhir+ndjson", Format.NDJSON), Arguments.of("application/ndjson", Format.NDJSON));
  }

  @ParameterizedTest(name = "_format={0}")
  @MethodSource("formats")
  void formatNames(String name, Format expected) {
    FhirRequest r = parsed(get("/fhir/Patient?_format=" + QueryCodec.encodeValue(name)));
    assertThat(r.responseFormat()).isEqualTo(expected);
    assertThat(r.params()).isEmpty();
  }
}
