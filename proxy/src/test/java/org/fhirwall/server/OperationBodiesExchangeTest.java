package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;

import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.Principal;
import org.junit.jupiter.api.Test;

/**
 * Gap sweep: an operation's body ({@code $process-message}'s message Bundle, {@code $validate}'s Parameters) was not
 * walked for conditional references. An EPR that writes what a message carries resolves them by searching, like a
 * create's ({@code "subject": {"reference": "Patient?identifier=..."}}), and its answer tells about what they matched.
 * Now they are held to the role's search rules and types like a write's; a text value naming a search
 * ({@code Patient?...}, as HAPI FHIR's {@code url} parameters of {@code $delete-expunge} and {@code $reindex} do) counts
 * as one; and a Bundle entry with a {@code request} inside an operation's body, which fhirwall cannot judge as a batch
 * entry, is refused (400). {@code $process-message} is closed to users ({@code ClosedChannels}): here a service account
 * (an interface engine) sends it.
 */
class OperationBodiesExchangeTest extends ExchangeFixture {
  static final String OBS = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
      + "\"subject\":{\"reference\":\"Patient/p9\"}}";

  {
    epr = r -> ExchangeRig.json(200, "{\"resourceType\":\"Bundle\",\"type\":\"message\"}");
  }

  @Test
  void theConditionalReferencesInAnOperationsBodyAreHeldToTheRolesSearchRules() {
    refused(post("$process-message", message(obs("Patient?organization.name=stmary&name=smith"))), "search-chains");
    refused(post("$process-message", message(obs("Organization?name=stmary"))), "resource-types");
    refused(post("Observation/$validate", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resource\","
        + "\"resource\":" + obs("Patient?gender=female") + "}]}"), "search-unselective");
    refused(post("$process-message", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\","
        + "\"valueString\":\"Patient?_has:Condition:subject:code=hiv\"}]}"), "search-has");
    malformed(post("$process-message", "{\"resourceType\":\"Bundle\",\"type\":\"message\",\"entry\":[{\"resource\":"
        + OBS + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation?identifier=x\"}}]}"));
    assertThat(reachedEpr).as("the EPR never hears of them").isEmpty();
  }

  @Test
  void aMessageWhoseReferencesTheRulesAllowIsForwardedAndThePatientsTheyNameCharged() {
    FullHttpResponse r = send(post("$process-message", message(obs("Patient?_id=p7"))));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr).hasSize(1);
    assertThat(audit.get(0).patients()).contains("Patient/p7");
    r = send(post("$process-message", message(obs("Patient?identifier=http://x%7C123"))));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
  }

  /**
   * Like a written resource's (adversarial sweep 9), a conditional reference to a patient's record of another type in a
   * resource an operation's body carries ({@code $process-message}'s message) is resolved by the EPR, and the outcome
   * tells whether the record it searches for is that test, whosever it is: it must name the patient. A search-shaped
   * parameter of an operation (an export's {@code _typeFilter}, a {@code url}) shows what it finds, and is not held to it.
   */
  @Test
  void aConditionalReferenceToAPatientsRecordInAnOperationsBodyMustNameThePatient() {
    String member = OBS.replace("}}", "},\"hasMember\":[{\"reference\":\"Observation?_id=o23&code=8310-5\"}]}");
    refused(post("$process-message", message(member)), "conditional-reference");
    assertThat(reachedEpr).as("the EPR never hears of it").isEmpty();
    FullHttpResponse r = send(post("$process-message", message(OBS.replace("}}",
        "},\"hasMember\":[{\"reference\":\"Observation?_id=o23&subject=Patient/p7\"}]}"))));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    r = send(post("$process-message", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\","
        + "\"valueString\":\"Observation?_id=o23&code=8310-5\"}]}"));
    assertThat(r.status().code()).as("a parameter's search is not a reference: " + body(r)).isEqualTo(200);
  }

  /**
   * Gap sweep 2: an operation takes its parameters from its query string as well as its body, and a text naming a
   * search there ({@code $delete-expunge?url=Patient?...}) went to the EPR unjudged, while the same in the body was
   * held to the role's rules. Now it is read like the body's.
   */
  @Test
  void theSearchesAnOperationsQueryStringNamesAreHeldToTheRolesSearchRules() {
    refused(postQuery("$process-message?url=" + encoded("Patient?_has:Condition:subject:code=hiv"),
        message(obs("Patient/p9"))), "search-has");
    refused(postQuery("$process-message?url=" + encoded("Organization?name=stmary"), ""), "resource-types");
    refused(postQuery("Observation/$validate?url=" + encoded("Patient?gender=female"), ""), "search-unselective");
    assertThat(reachedEpr).as("the EPR never hears of them").isEmpty();
    FullHttpResponse r = send(postQuery("$process-message?url=" + encoded("Patient?_id=p7"), message(obs("Patient/p9"))));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(audit.get(audit.size() - 1).patients()).as("the patient it names is charged").contains("Patient/p7");
  }

  private static String encoded(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String postQuery(String pathAndQuery, String body) {
    return Wire.write("POST", pathAndQuery, body.isEmpty() ? null : Wire.JSON, body);
  }

  private static String obs(String subject) {
    return OBS.replace("Patient/p9", subject);
  }

  private static String message(String resource) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"message\",\"entry\":[{\"resource\":{\"resourceType\":"
        + "\"MessageHeader\",\"eventCoding\":{\"code\":\"x\"},\"source\":{\"endpoint\":\"urn:x\"}}},"
        + "{\"resource\":" + resource + "}]}";
  }

  private static String post(String path, String body) {
    return Wire.json("POST", path, body);
  }

  static Authenticator interfaceEngine() {
    return (header, now) -> CompletableFuture.completedFuture(new AuthOutcome.Authenticated(
        new Principal(Principal.Kind.SERVICE, "https://idp", "feed", "service-account-feed", "feed", Set.of("feed"), null,
            Set.of(), null, null, Set.of(), null, ExchangeRig.NOW.plusSeconds(600), "jti-feed")));
  }

  @Override
  String role() {
    return """
        role: feed
        applies-to: {roles: [feed], principal: service}
        interactions: [operation-system, operation-type]
        resource-types: [Patient, Observation, MessageHeader, Bundle, Parameters]
        operations: [process-message, validate]
        patient-limits: [{window: 1h, max: 5}]
        search: {max-count: 5, unselective: refuse, require-patient-criterion: false}
        rate: {requests-per-second: 100, burst: 100, concurrent: 4}
        """;
  }

  @Override
  Authenticator principal() {
    return interfaceEngine();
  }
}
