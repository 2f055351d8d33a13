package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The next-link oracle, against HAPI FHIR's JPA server (where a black-box probe found it): a search for a decoy's and a
 * target's MRN with a criterion, {@code _count=1}, shows (and charges) the decoy; HAPI links to a next page exactly when
 * the target matches too, so the link told, for free, whether the target matches (a binary search on the birth date
 * gave it exactly). Now the first page is the same whether the target matches or not (same entries, a next link of
 * the same length, no total); only following the link tells, and that shows and charges the target.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FullPageLinksJpaIT {
  static final ObjectMapper JSON = new ObjectMapper();
  ItEnvironment it;
  Person decoy;
  Person target;

  record Person(String id, String mrn, String birthDate) {}

  @BeforeAll
  void start(JpaEpr epr) throws Exception {
    it = ItEnvironment.inFrontOf(epr);
    List<Person> people = new ArrayList<>();
    for (String id : epr.samplePatientIds(20, 17)) {
      Person p = person(id);
      if (p != null) {
        people.add(p);
      }
    }
    people.sort((a, b) -> a.birthDate().compareTo(b.birthDate()));
    decoy = people.get(0);
    target = people.stream().filter(p -> p.birthDate().compareTo(decoy.birthDate()) > 0).findFirst().orElseThrow();
  }

  @AfterAll
  void stop() {
    if (it != null) {
      it.close();
    }
  }

  private Person person(String id) throws Exception {
    JsonNode record = JSON.readTree(it.sendDirect("Patient/" + id).body());
    String birth = record.path("birthDate").asText(null);
    for (JsonNode i : record.path("identifier")) {
      if (i.path("system").asText().endsWith("/mrn") && birth != null && birth.length() == 10) {
        return new Person(id, i.path("system").asText() + "|" + i.path("value").asText(), birth);
      }
    }
    return null;
  }

  /** The probe's search: both MRNs, born before (or on) the target's birth date, one per page, the decoy first. */
  private String search(String birthdate) {
    return "Patient?identifier=" + URLEncoder.encode(decoy.mrn() + "," + target.mrn(), StandardCharsets.UTF_8)
        + "&birthdate=" + birthdate + "&_count=1&_sort=birthdate";
  }

  @Test
  void theFirstPageTellsNothingOfTheTargetAndFollowingItChargesTheTarget() throws Exception {
    String matches = search("le" + target.birthDate());
    String misses = search("lt" + target.birthDate());
    HttpResponse<String> direct = it.sendDirect(matches);
    assertThat(link(JSON.readTree(direct.body()), "next")).as("HAPI links on exactly when the target matches").isNotNull();
    assertThat(link(JSON.readTree(it.sendDirect(misses).body()), "next")).isNull();

    String withTarget = it.token("probe-" + UUID.randomUUID(), "counted");
    String without = it.token("probe-" + UUID.randomUUID(), "counted");
    HttpResponse<String> a = it.get(matches, withTarget);
    HttpResponse<String> b = it.get(misses, without);
    assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
    assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
    JsonNode pageA = JSON.readTree(a.body());
    JsonNode pageB = JSON.readTree(b.body());
    assertThat(pageA.path("entry")).hasSize(1);
    assertThat(pageA.path("entry")).isEqualTo(pageB.path("entry"));
    assertThat(pageA.path("entry").get(0).path("resource").path("id").asText()).isEqualTo(decoy.id());
    assertThat(pageA.has("total")).as(a.body()).isFalse();
    assertThat(pageB.has("total")).as(b.body()).isFalse();
    assertThat(relations(pageA)).isEqualTo(relations(pageB)).contains("next");
    String nextA = link(pageA, "next");
    String nextB = link(pageB, "next");
    assertThat(nextA.length()).as("the two next links are as long as each other").isEqualTo(nextB.length());
    for (HttpResponse<String> r : List.of(a, b)) {
      String line = it.auditLineOf(r);
      assertThat(line).contains("\"reference\":\"Patient/" + decoy.id() + "\"")
          .doesNotContain("\"reference\":\"Patient/" + target.id() + "\"");
    }

    HttpResponse<String> followedA = it.get(nextA, withTarget);
    assertThat(followedA.statusCode()).as(followedA.body()).isEqualTo(200);
    JsonNode secondA = JSON.readTree(followedA.body());
    assertThat(secondA.path("entry")).hasSize(1);
    assertThat(secondA.path("entry").get(0).path("resource").path("id").asText()).isEqualTo(target.id());
    assertThat(it.awaitAuditLine(followedA.headers().firstValue("X-Request-Id").orElseThrow()))
        .as("who follows the link is charged for what it shows").contains("\"reference\":\"Patient/" + target.id() + "\"");

    HttpResponse<String> followedB = it.get(nextB, without);
    assertThat(followedB.statusCode()).as(followedB.body()).isEqualTo(200);
    JsonNode secondB = JSON.readTree(followedB.body());
    assertThat(secondB.path("type").asText()).isEqualTo("searchset");
    assertThat(secondB.has("entry")).as(followedB.body()).isFalse();
    assertThat(secondB.has("total")).isFalse();
    assertThat(link(secondB, "next")).isNull();
    assertThat(link(secondB, "self")).startsWith(it.proxyBase());
    String line = it.awaitAuditLine(followedB.headers().firstValue("X-Request-Id").orElseThrow());
    assertThat(line).doesNotContain("\"reference\":\"Patient/");
  }

  @Test
  void theSameSearchInsideABatchTellsNothingEither() throws Exception {
    JsonNode a = batched(search("le" + target.birthDate()));
    JsonNode b = batched(search("lt" + target.birthDate()));
    assertThat(a.path("entry")).hasSize(1);
    assertThat(a.path("entry")).isEqualTo(b.path("entry"));
    assertThat(a.has("total")).isFalse();
    assertThat(b.has("total")).isFalse();
    assertThat(relations(a)).isEqualTo(relations(b)).contains("next");
    assertThat(link(a, "next").length()).isEqualTo(link(b, "next").length());
  }

  /** The searchset answering {@code search} as the one entry of a batch. */
  private JsonNode batched(String search) throws Exception {
    HttpResponse<String> r = it.send(java.net.http.HttpRequest.newBuilder(it.uri("")).header("Content-Type", "application/fhir+json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
            + "{\"request\":{\"method\":\"GET\",\"url\":\"" + search + "\"}}]}")),
        it.token("probe-" + UUID.randomUUID(), "counted"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).path("entry").get(0).path("resource");
  }

  static List<String> relations(JsonNode bundle) {
    List<String> out = new ArrayList<>();
    bundle.path("link").forEach(l -> out.add(l.path("relation").asText()));
    return out;
  }

  static String link(JsonNode bundle, String relation) {
    for (JsonNode l : bundle.path("link")) {
      if (relation.equals(l.path("relation").asText())) {
        return l.path("url").asText();
      }
    }
    return null;
  }
}
