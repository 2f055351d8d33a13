package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.fhirwall.demo.DemoIssuer;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The patient budget as an invariant (issue 15), tried as an attacker with a stolen MFA session
 * would, through fhirwall to a real HAPI FHIR server: answers that only <em>tell about</em> a patient
 * (counts, existence) are charged like answers that show one; a bundle's entries count one by
 * one; break-glass raises the ceiling of the same account; a role never receives resources of
 * types it may not read; "selective" means a criterion that can select. What each client received
 * is counted here from the bodies, not from fhirwall's bookkeeping.
 */
@ExtendWith(LeakWatch.class)
class BreachInvariantsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static ItEnvironment it;
  static List<String> ids;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(600);
    ids = it.env.store().samplePatientIds(120, 17);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  static String token(String role) {
    return it.token(role + "-" + UUID.randomUUID(), role);
  }

  static Patient patient(String id) {
    return (Patient) it.env.store().get("Patient", id).orElseThrow();
  }

  static String mrn(String id) {
    return patient(id).getIdentifier().get(0).getValue();
  }

  static String birthDate(String id) {
    return patient(id).getBirthDateElement().getValueAsString();
  }

  /** Item 1: a count-only probe that pins one patient by identity criteria is a disclosure of that patient. */
  @Test
  void countOnlyIdentityProbesAreChargedUntilTheLimitStopsThem() throws Exception {
    String token = token("counted");
    int answered = 0;
    int throttled = 0;
    for (String id : ids.subList(0, 30)) {
      String probe = answered % 2 == 0 ? "&_summary=count" : "&_count=0";
      HttpResponse<String> r = it.get("Patient?identifier=" + mrn(id) + "&birthdate=" + birthDate(id) + probe, token);
      if (r.statusCode() == 200) {
        answered++;
        JsonNode b = JSON.readTree(r.body());
        assertThat(b.path("total").asInt()).as(r.body()).isEqualTo(1);
        assertThat(b.has("entry")).as("a count shows no resource").isFalse();
      } else {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
        throttled++;
      }
    }
    assertThat(answered).as("the role's limit is 25 distinct patients").isEqualTo(25);
    assertThat(throttled).isEqualTo(5);
  }

  /** Item 1: in a bundle, every entry counts as if sent alone: against the limit, the rate and the id-walk watch. */
  @Test
  void aBundleOfProbesIsNoCheaperThanTheProbesSentAlone() throws Exception {
    String counted = token("counted");
    StringBuilder probes = new StringBuilder();
    for (String id : ids.subList(30, 60)) {
      probes.append(entry("GET", "Patient?identifier=" + mrn(id) + "&_summary=count")).append(',');
    }
    HttpResponse<String> countBatch = post(batch(probes), counted);
    ItEnvironment.assertOperationOutcome(countBatch, 403);
    assertThat(countBatch.body()).contains("send it on its own");

    assertThat(it.get("Patient/" + ids.get(29), counted).statusCode()).isEqualTo(200);
    StringBuilder reads = new StringBuilder();
    for (String id : ids.subList(30, 55)) {
      reads.append(entry("GET", "Patient/" + id)).append(',');
    }
    HttpResponse<String> readBatch = post(batch(reads), counted);
    ItEnvironment.assertOperationOutcome(readBatch, 429);
    assertThat(readBatch.body()).doesNotContain("\"resourceType\":\"Patient\"");

    String strict = token("strict");
    StringBuilder eleven = new StringBuilder();
    for (String id : ids.subList(60, 71)) {
      eleven.append(entry("GET", "Patient/" + id)).append(',');
    }
    HttpResponse<String> overRate = post(batch(eleven), strict);
    ItEnvironment.assertOperationOutcome(overRate, 429);
    assertThat(overRate.body()).contains("11 requests in one");

    String walker = token("counted");
    StringBuilder missing = new StringBuilder();
    for (int i = 0; i < 21; i++) {
      missing.append(entry("GET", "Observation/missing-" + i)).append(',');
    }
    HttpResponse<String> walk = post(batch(missing), walker);
    assertThat(walk.statusCode()).as(walk.body()).isEqualTo(200);
    HttpResponse<String> after = it.get("Patient/" + ids.get(0), walker);
    ItEnvironment.assertOperationOutcome(after, 429);
    assertThat(after.body()).contains("locked").contains("id walk");
  }

  /** Item 2: break-glass raises the ceiling of the same account; it never adds a second pool. */
  @Test
  void breakGlassRaisesTheCeilingInsteadOfAddingAPool() throws Exception {
    String token = it.env.issuer().mint(DemoIssuer.Claims.builder("sub-er-" + UUID.randomUUID(), "fhirwall", "fhirwall-web")
        .username("er-user").roles(Set.of("er")).amr(List.of("pwd", "otp")).authTime(Instant.now()).build());
    Set<String> received = new HashSet<>();
    assertThat(receive(it.get("Patient?_id=" + String.join(",", ids.subList(0, 5)), token), received)).isEqualTo(200);
    List<String> more = ids.subList(5, 60);
    int i = 0;
    int last = 200;
    while (last == 200 && i < more.size()) {
      HttpRequest.Builder b = HttpRequest.newBuilder(it.uri("Patient/" + more.get(i++))).GET()
          .header("X-Break-Glass-Reason", "cardiac arrest");
      last = receive(it.send(b, token), received);
    }
    assertThat(last).isEqualTo(429);
    assertThat(received).as("the break-glass ceiling (30/h) covers the patients seen before it too").hasSize(30);
    assertThat(it.awaitAuditLine("break-glass-access")).isNotEmpty();
    for (int wait = 0; wait < 200 && it.env.alerts().stream().noneMatch(a -> a.contains("break-glass-access")); wait++) {
      Thread.sleep(25); // alerts are posted off the request path
    }
    assertThat(it.env.alerts()).anyMatch(a -> a.contains("break-glass-access"));
  }

  /** Item 6: what comes back is bounded by resource-types too ($everything of a role without Condition). */
  @Test
  void everythingNeverReturnsTypesTheRoleMayNotRead() throws Exception {
    HttpResponse<String> r = it.get("Patient/" + ids.get(80) + "/$everything", token("strict"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Set<String> types = new HashSet<>();
    for (JsonNode e : JSON.readTree(r.body()).path("entry")) {
      types.add(e.path("resource").path("resourceType").asText());
    }
    assertThat(types).contains("Patient").isSubsetOf("Patient", "Observation", "Encounter");
    HttpResponse<String> unfiltered = it.get("Patient/" + ids.get(80) + "/$everything", token("counted"));
    assertThat(unfiltered.body()).as("the EPR does hold other types for this patient").contains("\"Condition\"");
  }

  /** Item 7: presence is not selectivity. */
  @Test
  void aCriterionThatMatchesEveryoneDoesNotMakeASearchSelective() throws Exception {
    String token = token("strict");
    for (String search : List.of("Patient?name=&_count=50", "Patient?birthdate=gt1800", "Patient?name=a",
        "Patient?gender=female", "Patient?birthdate=1970", "Patient?family=Martin,a")) {
      HttpResponse<String> r = it.get(search, token);
      ItEnvironment.assertOperationOutcome(r, 403);
      assertThat(r.body()).as(search).contains("no selective criterion");
    }
    assertThat(it.get("Patient?family=Martin", token).statusCode()).isEqualTo(200);
    assertThat(it.get("Patient?birthdate=" + birthDate(ids.get(90)), token).statusCode()).isEqualTo(200);
  }

  /** A total is shown only when it cannot tell of patients the client did not receive. */
  @Test
  void aSearchTotalIsWithheldWhileMatchesRemainUnseen() throws Exception {
    HttpResponse<String> first = it.get("Patient?family=Martin&_count=2&_total=accurate", token("counted"));
    JsonNode b = JSON.readTree(first.body());
    assertThat(b.path("entry").size()).isEqualTo(2);
    assertThat(b.has("total")).isFalse();
  }

  static int receive(HttpResponse<String> r, Set<String> into) throws Exception {
    if (r.statusCode() == 200) {
      JsonNode body = JSON.readTree(r.body());
      if (body.path("resourceType").asText().equals("Patient")) {
        into.add(body.path("id").asText());
      }
      for (JsonNode e : body.path("entry")) {
        if (e.path("resource").path("resourceType").asText().equals("Patient")) {
          into.add(e.path("resource").path("id").asText());
        }
      }
    }
    return r.statusCode();
  }

  static String entry(String method, String url) {
    return "{\"request\":{\"method\":\"" + method + "\",\"url\":\"" + url + "\"}}";
  }

  static String batch(StringBuilder entries) {
    String list = entries.length() == 0 ? "" : entries.substring(0, entries.length() - 1);
    return "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[" + list + "]}";
  }

  static HttpResponse<String> post(String bundle, String token) throws Exception {
    return it.send(HttpRequest.newBuilder(java.net.URI.create(it.proxyBase())).header("Content-Type", "application/fhir+json")
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(bundle)), token);
  }

}
