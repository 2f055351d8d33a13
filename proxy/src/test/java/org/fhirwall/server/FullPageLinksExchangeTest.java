package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.server.ExchangeRig.body;
import static org.fhirwall.server.ExchangeRig.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.FullHttpResponse;
import org.junit.jupiter.api.Test;

/**
 * A search page's next link told, for free, whether more records matched than the page showed: the
 * EPR gives one only then, and the patients of the unseen matches are charged only once a page shows
 * them. Seen against HAPI FHIR's JPA server: {@code Patient?identifier=DECOY,TARGET&birthdate=lt1970-01-01
 * &_count=1&_sort=_id} showed (and charged) the decoy, and its next link said whether the target
 * matched. Now a full page always links to a next one, the EPR's or fhirwall's own (which leads to an
 * empty page without asking the EPR), and the two cannot be told apart.
 */
class FullPageLinksExchangeTest extends ExchangeFixture {
  static final String EPR = ExchangeRig.EPR;
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SEARCH = "Patient?identifier=mrn%7Cdecoy,mrn%7Ctarget&birthdate=lt1970-01-01&_sort=_id";

  @Test
  void aFullPageAnswersAlikeWhetherOrNotTheTargetMatches() throws Exception {
    epr = r -> json(200, page(1, false, false, "decoy"));
    JsonNode alone = JSON.readTree(body(get(SEARCH + "&_count=1")));
    epr = r -> json(200, page(null, true, false, "decoy"));
    JsonNode withTarget = JSON.readTree(body(get(SEARCH + "&_count=1")));

    assertThat(alone.path("entry")).isEqualTo(withTarget.path("entry"));
    assertThat(alone.has("total")).as("a total would tell as much as the link: " + alone).isFalse();
    assertThat(withTarget.has("total")).isFalse();
    String own = link(alone, "next");
    String eprs = link(withTarget, "next");
    assertThat(own).as("fhirwall's own next link").startsWith(ExchangeRig.PUBLIC + "?_fwpage=");
    assertThat(eprs).startsWith(ExchangeRig.PUBLIC + "?_fwpage=");
    assertThat(own.length()).as("a token's length does not tell whose it is").isEqualTo(eprs.length());
    assertThat(link(alone, "self")).isEqualTo(link(withTarget, "self"));
    assertThat(alone.path("link").findValuesAsText("relation")).as("in the EPR's order")
        .isEqualTo(withTarget.path("link").findValuesAsText("relation")).containsExactly("self", "next");
    assertThat(audit).hasSize(2).allSatisfy(a -> assertThat(a.patients()).containsExactly("Patient/decoy"));
  }

  @Test
  void followingFhirwallsOwnNextLinkAnswersAnEmptyPageWithoutAskingTheEpr() throws Exception {
    epr = r -> json(200, page(1, false, false, "decoy"));
    String next = link(JSON.readTree(body(get(SEARCH + "&_count=1"))), "next");
    assertThat(reachedEpr).hasSize(1);

    FullHttpResponse r = get(next.substring(ExchangeRig.PUBLIC.length()));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr).as("the EPR is not asked for a page fhirwall knows is empty").hasSize(1);
    JsonNode empty = JSON.readTree(body(r));
    assertThat(empty.path("resourceType").asText()).isEqualTo("Bundle");
    assertThat(empty.path("type").asText()).isEqualTo("searchset");
    assertThat(empty.has("entry")).isFalse();
    assertThat(empty.has("total")).isFalse();
    assertThat(link(empty, "next")).isNull();
    assertThat(link(empty, "self")).startsWith(ExchangeRig.PUBLIC);
    assertThat(body(r)).doesNotContain(EPR);
    assertThat(audit.get(1).patients()).isEmpty();
  }

  @Test
  void theEprsOwnNextLinkStillLeadsToTheEpr() throws Exception {
    epr = r -> json(200, page(null, true, false, "decoy"));
    String next = link(JSON.readTree(body(get(SEARCH + "&_count=1"))), "next");
    epr = r -> json(200, page(2, false, false, "target"));
    FullHttpResponse r = get(next.substring(ExchangeRig.PUBLIC.length()));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr).hasSize(2);
    assertThat(reachedEpr.get(1).target()).contains("_getpages=abc");
    JsonNode last = JSON.readTree(body(r));
    assertThat(link(last, "next")).as("the second page, full as well, links on past the end").isNotNull();
    assertThat(audit.get(1).patients()).containsExactly("Patient/target");
  }

  @Test
  void aSearchPostedToSearchIsHeldToTheSameRule() throws Exception {
    epr = r -> json(200, page(1, false, false, "decoy"));
    String form = "identifier=mrn%7Cdecoy,mrn%7Ctarget&birthdate=lt1970-01-01&_count=1";
    JsonNode answer = JSON.readTree(body(send("POST /fhir/Patient/_search HTTP/1.1\r\nHost: proxy\r\n"
        + "Authorization: Bearer good\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        + form.length() + "\r\n\r\n" + form)));
    assertThat(link(answer, "next")).startsWith(ExchangeRig.PUBLIC + "?_fwpage=");
    assertThat(answer.has("total")).isFalse();
  }

  @Test
  void aPageThatIsNotFullHasNoNextLinkAndKeepsItsTotal() throws Exception {
    epr = r -> json(200, page(2, false, false, "p1", "p2"));
    JsonNode answer = JSON.readTree(body(get("Patient?family=Martin&_count=3")));
    assertThat(link(answer, "next")).isNull();
    assertThat(answer.path("total").asInt()).isEqualTo(2);
  }

  @Test
  void aSearchWithoutACountIsFullAtTheRolesCap() throws Exception {
    epr = r -> json(200, page(3, false, false, "p1", "p2", "p3"));
    JsonNode answer = JSON.readTree(body(get("Patient?family=Martin")));
    assertThat(reachedEpr.get(0).target()).contains("_count=3");
    assertThat(link(answer, "next")).isNotNull();
    assertThat(answer.has("total")).isFalse();
  }

  @Test
  void includedEntriesDoNotMakeAPageFull() throws Exception {
    epr = r -> json(200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"self\",\"url\":\""
        + EPR + "/Patient\"}],\"entry\":[" + entry("p1", "match") + "," + entry("p2", "include") + "]}");
    JsonNode answer = JSON.readTree(body(get("Patient?family=Martin&_count=2")));
    assertThat(link(answer, "next")).isNull();
  }

  @Test
  void aPageWithoutALinkArrayGetsOne() throws Exception {
    epr = r -> json(200, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[" + entry("p1", "match") + "]}");
    JsonNode answer = JSON.readTree(body(get("Patient?family=Martin&_count=1")));
    assertThat(link(answer, "next")).startsWith(ExchangeRig.PUBLIC + "?_fwpage=");
  }

  /** A last link would tell how many pages, so how many matches, the search has. */
  @Test
  void theEprsLastLinkIsDropped() throws Exception {
    epr = r -> json(200, page(null, true, true, "p1"));
    FullHttpResponse r = get("Patient?family=Martin&_count=1");
    JsonNode answer = JSON.readTree(body(r));
    assertThat(link(answer, "last")).isNull();
    assertThat(link(answer, "next")).isNotNull();
    assertThat(answer.path("link")).hasSize(2);
  }

  /** The same oracle inside a batch: each search of a batch answer is held to the same rule, with its own _count. */
  @Test
  void aFullSearchInsideABatchAnswerLinksOnAlikeAndItsLinkLeadsToAnEmptyPage() throws Exception {
    epr = r -> json(200, batchResponse(page(1, false, false, "decoy"), page(2, false, false, "p1", "p2")));
    JsonNode alone = JSON.readTree(body(post(batch(SEARCH + "&_count=1", "Patient?family=Martin&_count=2"))));
    epr = r -> json(200, batchResponse(page(null, true, false, "decoy"), page(2, false, false, "p1", "p2")));
    JsonNode withTarget = JSON.readTree(body(post(batch(SEARCH + "&_count=1", "Patient?family=Martin&_count=2"))));

    JsonNode a = alone.path("entry").get(0).path("resource");
    JsonNode b = withTarget.path("entry").get(0).path("resource");
    assertThat(a.path("entry")).isEqualTo(b.path("entry"));
    assertThat(a.has("total")).as(a.toString()).isFalse();
    assertThat(a.path("link").findValuesAsText("relation")).isEqualTo(b.path("link").findValuesAsText("relation"))
        .containsExactly("self", "next");
    assertThat(link(a, "next").length()).isEqualTo(link(b, "next").length());
    JsonNode full = alone.path("entry").get(1).path("resource");
    assertThat(link(full, "next")).as("full at its own _count").isNotNull();
    assertThat(full.has("total")).isFalse();

    int asked = reachedEpr.size();
    FullHttpResponse r = get(link(a, "next").substring(ExchangeRig.PUBLIC.length()));
    assertThat(r.status().code()).as(body(r)).isEqualTo(200);
    assertThat(reachedEpr).hasSize(asked);
    assertThat(JSON.readTree(body(r)).has("entry")).isFalse();
  }

  @Test
  void aSearchInsideABatchAnswerThatIsNotFullHasNoNextLink() throws Exception {
    epr = r -> json(200, batchResponse(page(1, false, false, "p1")));
    JsonNode answer = JSON.readTree(body(post(batch("Patient?family=Martin&_count=2"))));
    JsonNode searchset = answer.path("entry").get(0).path("resource");
    assertThat(link(searchset, "next")).isNull();
    assertThat(searchset.path("total").asInt()).isEqualTo(1);
  }

  // --- the rig ---------------------------------------------------------------------------------------

  static String page(Integer total, boolean next, boolean last, String... ids) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"");
    if (total != null) {
      sb.append(",\"total\":").append(total);
    }
    sb.append(",\"link\":[{\"relation\":\"self\",\"url\":\"").append(EPR).append("/Patient?identifier=x\"}");
    if (next) {
      sb.append(",{\"relation\":\"next\",\"url\":\"").append(EPR).append("?_getpages=abc&_getpagesoffset=1&_count=1\"}");
    }
    if (last) {
      sb.append(",{\"relation\":\"last\",\"url\":\"").append(EPR).append("?_getpages=abc&_getpagesoffset=41&_count=1\"}");
    }
    sb.append("],\"entry\":[");
    for (int i = 0; i < ids.length; i++) {
      sb.append(i == 0 ? "" : ",").append(entry(ids[i], "match"));
    }
    return sb.append("]}").toString();
  }

  static String entry(String id, String mode) {
    return "{\"fullUrl\":\"" + EPR + "/Patient/" + id + "\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + id
        + "\"},\"search\":{\"mode\":\"" + mode + "\"}}";
  }

  static String link(JsonNode bundle, String relation) {
    for (JsonNode l : bundle.path("link")) {
      if (relation.equals(l.path("relation").asText())) {
        return l.path("url").asText();
      }
    }
    return null;
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

  private FullHttpResponse post(String bundle) {
    return send(Wire.json("POST", "", bundle));
  }

  /** GET {@code target} (relative to fhirwall's base, or starting with {@code ?}). */
  private FullHttpResponse get(String target) {
    return send(Wire.get(target));
  }

  @Override
  String role() {
    return """
        role: ward
        applies-to: {roles: [ward]}
        authentication: {amr: [otp]}
        interactions: [read, search-type, batch]
        resource-types: [Patient, Observation]
        patient-limits: [{window: 1h, max: 30}]
        search: {max-count: 3, unselective: cap, require-patient-criterion: false}
        batch: {max-entries: 3}
        rate: {requests-per-second: 100, burst: 100, concurrent: 4}
        """;
  }
}
