package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirwall.it.jpa.EprRequestLog;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every shape fhirwall refuses never reaches the EPR: each refused request is sent through the real fhirwall to the
 * run's HAPI FHIR JPA server, and the JPA server's own request log shows nothing arrived while it was answered
 * (neither an entry with the refusal's {@code X-Request-Id} nor any entry at all: the suites run one class at a
 * time). A control request of the same session is logged, so the log is known to work.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusedShapesJpaIT {
  ItEnvironment it;
  EprRequestLog log;
  String patient;

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    log = epr.requestLog();
    patient = epr.samplePatientIds(1, 1).get(0);
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  String strict() {
    return it.token("strict-" + UUID.randomUUID(), "strict");
  }

  /** Sends {@code request} and asserts it was refused with {@code status} and that nothing reached the EPR. */
  void refusedBeforeTheEpr(HttpRequest.Builder request, String token, int status) throws Exception {
    int before = log.entries().size();
    HttpResponse<String> r = it.send(request, token);
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(log.received(id)).as("the EPR saw " + r.request().uri()).isFalse();
    assertThat(log.entries()).as("nothing reached the EPR for " + r.request().uri()).hasSize(before);
    assertThat(r.statusCode()).as(r.request().uri() + ": " + r.body()).isEqualTo(status);
    assertThat(r.body()).contains("OperationOutcome");
  }

  void refusedBeforeTheEpr(String path, String token, int status) throws Exception {
    refusedBeforeTheEpr(HttpRequest.newBuilder(it.uri(path)).GET(), token, status);
  }

  HttpRequest.Builder post(String path, String contentType, String body) {
    return HttpRequest.newBuilder(it.uri(path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  @Test
  void theControlRequestIsLogged() throws Exception {
    HttpResponse<String> r = it.get("Patient/" + patient, strict());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(log.received(r.headers().firstValue("X-Request-Id").orElseThrow())).isTrue();
  }

  @Test
  void credentialsThatAreMissingWeakOrInTheWrongPlace() throws Exception {
    refusedBeforeTheEpr("Patient/" + patient, null, 401);
    refusedBeforeTheEpr("Patient/" + patient, it.token("pwd-" + UUID.randomUUID(), List.of("pwd"), "strict"), 401);
    refusedBeforeTheEpr("Patient/" + patient, "not-a-jwt", 401);
    // a valid token sent only as a query parameter or a form field is no credential, and never forwarded
    String valid = strict();
    refusedBeforeTheEpr("Patient/" + patient + "?access_token=" + valid, null, 401);
    refusedBeforeTheEpr(post("Patient/_search", "application/x-www-form-urlencoded", "access_token=" + valid + "&_id="
        + patient), null, 401);
  }

  @Test
  void pathsAndParametersThatAreNotCanonical() throws Exception {
    String t = strict();
    refusedBeforeTheEpr("Patient/%2e%2e/Observation", t, 400);
    refusedBeforeTheEpr("Patient%2F" + patient, t, 400);
    refusedBeforeTheEpr("patient/" + patient, t, 400);
    refusedBeforeTheEpr("Patient?_id=" + patient + "&_count=5&_count=500", t, 400);
    refusedBeforeTheEpr("Patient?%5Fid=" + patient, t, 400);
    // HAPI FHIR reads a modifier in another case, or one it does not know, as none: name:Contains=a is name=a there
    refusedBeforeTheEpr("Patient?name:Contains=abc", t, 400);
    refusedBeforeTheEpr("Patient?name:EXACT=abc", t, 400);
    refusedBeforeTheEpr("Patient?_id:Missing=false", t, 400);
    refusedBeforeTheEpr("Observation?subject:patient=" + patient, t, 400);
    // every link of a reverse chain too (sweep 6; HAPI FHIR 8.8 itself refuses a modifier at a _has chain's end, another
    // EPR may read an odd one as none)
    refusedBeforeTheEpr("Patient?_has:Observation:patient:code:Exact=8867-4", t, 400);
    refusedBeforeTheEpr("Patient?_has:Observation:patient:_has:Provenance:target:agent:Practitioner.name:Contains=a", t, 400);
    refusedBeforeTheEpr("Patient?_has:observation:patient:code=8867-4", t, 400);
    // hand-made paging is refused as forbidden (403), not as malformed
    refusedBeforeTheEpr("?_getpages=abc&_getpagesoffset=0", t, 403);
    refusedBeforeTheEpr("Patient?_id=" + patient + "&_offset=100", t, 403);
    refusedBeforeTheEpr("Patient?_id=" + patient + "&_method=DELETE", t, 400);
    // HAPI would read these as a text summary, which drops the references that name patients
    refusedBeforeTheEpr("Patient?_id=" + patient + "&_summary=TEXT", t, 400);
    refusedBeforeTheEpr("Patient?_id=" + patient + "&_summary=foo,text", t, 400);
    refusedBeforeTheEpr(HttpRequest.newBuilder(it.uri("Patient/" + patient)).header("X-HTTP-Method-Override", "DELETE")
        .GET(), t, 400);
  }

  @Test
  void policyRefusals() throws Exception {
    String t = strict();
    refusedBeforeTheEpr("Observation?code=8867-4", t, 403);
    refusedBeforeTheEpr("Patient", t, 403);
    refusedBeforeTheEpr("Condition?subject=Patient/" + patient, t, 403);
    refusedBeforeTheEpr("Observation?subject.name=smith", t, 403);
    refusedBeforeTheEpr("Patient?_has:Observation:subject:code=8867-4", t, 403);
    refusedBeforeTheEpr("Patient?_summary=count", t, 403);
    refusedBeforeTheEpr(HttpRequest.newBuilder(it.uri("$export")).header("Prefer", "respond-async").GET(), t, 403);
    refusedBeforeTheEpr(post("Subscription", "application/fhir+json", "{\"resourceType\":\"Subscription\",\"status\":"
        + "\"requested\",\"criteria\":\"Observation?\",\"channel\":{\"type\":\"rest-hook\",\"endpoint\":\"https://x.example\"}}"),
        t, 403);
    StringBuilder batch = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (int i = 0; i < 101; i++) {
      batch.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"Patient/").append(patient)
          .append("\"}}");
    }
    refusedBeforeTheEpr(post("", "application/fhir+json", batch.append("]}").toString()), t, 403);
    refusedBeforeTheEpr(post("", "application/fhir+json", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + patient + "\"}},"
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?code=8867-4\"}}]}"), t, 403);
  }

  @Test
  void framingThatCouldSmuggleASecondRequest() throws Exception {
    String t = strict();
    String smuggled = "GET /fhir/Patient/" + patient + " HTTP/1.1\r\nHost: x\r\n\r\n";
    rawRefusedBeforeTheEpr("POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + t
        + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\n" + smuggled);
    rawRefusedBeforeTheEpr("GET /fhir/Patient/" + patient + " HTTP/1.1\r\nHost: proxy\r\nHost: other\r\nAuthorization: Bearer "
        + t + "\r\n\r\n");
    rawRefusedBeforeTheEpr("GET /fhir/Patient/" + patient + " HTTP/1.1\nHost: proxy\nAuthorization: Bearer " + t + "\n\n");
    rawRefusedBeforeTheEpr("GET http://evil.example/fhir/Patient/" + patient + " HTTP/1.1\r\nHost: proxy\r\n"
        + "Authorization: Bearer " + t + "\r\n\r\n");
    rawRefusedBeforeTheEpr("GET /fhir/Patient/" + patient + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + t
        + "\r\nX-Note: a\r\n b\r\n\r\n");
    rawRefusedBeforeTheEpr("GET /fhir/Patient/" + patient + " HTTP/1.2\r\nHost: proxy\r\nAuthorization: Bearer " + t
        + "\r\n\r\n", 505);
  }

  /**
   * A request refused at the edge pipelined behind a read the EPR is answering: the read's answer first, then the
   * refusal, then the connection closes (before, the refusal came alone and was read as the read's answer).
   */
  @Test
  void aRefusalPipelinedBehindAReadComesAfterTheReadsAnswer() throws Exception {
    String read = "GET /fhir/Patient/" + patient + " HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer " + strict()
        + "\r\nAccept: application/fhir+json\r\n\r\n";
    String refused = "GET /fhir/Patient/" + patient + " HTTP/1.1\r\nHost: proxy\r\nContent-Length: 3\r\nContent-Length: 4"
        + "\r\n\r\nabc";
    int before = log.entries().size();
    String answer = raw(read + refused);
    List<String> statuses = Pattern.compile("HTTP/1\\.1 (\\d{3})").matcher(answer).results().map(m -> m.group(1)).toList();
    assertThat(statuses).as(answer).containsExactly("200", "400");
    assertThat(answer.substring(0, answer.indexOf("HTTP/1.1 400"))).contains("\"id\":\"" + patient + "\"");
    assertThat(answer.substring(answer.indexOf("HTTP/1.1 400"))).contains("OperationOutcome", "Content-Length");
    assertThat(log.entries()).as("only the read reached the EPR").hasSize(before + 1);
  }

  void rawRefusedBeforeTheEpr(String request) throws Exception {
    rawRefusedBeforeTheEpr(request, 400);
  }

  void rawRefusedBeforeTheEpr(String request, int status) throws Exception {
    int before = log.entries().size();
    String answer = raw(request);
    Matcher id = Pattern.compile("(?im)^x-request-id: *(\\S+)").matcher(answer);
    if (id.find()) {
      assertThat(log.received(id.group(1))).isFalse();
    }
    assertThat(log.entries()).as("nothing reached the EPR for " + request).hasSize(before);
    assertThat(answer).as(request).startsWith("HTTP/1.1 " + status).contains("OperationOutcome");
  }

  /** Writes {@code bytes} on a connection of its own and reads what fhirwall answers until it closes the connection. */
  String raw(String bytes) throws Exception {
    URI base = URI.create(it.proxyBase());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(bytes.getBytes(ISO_8859_1));
      out.flush();
      return new String(s.getInputStream().readAllBytes(), ISO_8859_1);
    }
  }
}
