package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.InspectorSettings;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.junit.jupiter.api.Test;

/** URLs of the EPR moved to fhirwall's base: by swapping the base's bytes where it is written plainly, else by re-encoding the URL. */
class LinkRewriterTest {
  static final String EPR = "http://epr.internal:8080/fhir";
  static final String PUBLIC = "https://fhirwall.hospital.example/fhir";
  static final FhirContext R4 = FhirContext.forR4Cached();
  static final ObjectMapper JSON = new ObjectMapper();

  final ResponseInspector inspector = new ResponseInspector(R4, PatientCompartment.from(R4),
      new InspectorSettings(List.of(EPR + "/"), 10_000_000, 100));
  final LinkRewriter links = new LinkRewriter(EPR, PUBLIC,
      new PageLinks("0123456789abcdef0123456789abcdef".getBytes(UTF_8), Duration.ofMinutes(10)));

  Inspection.Read read(String json) {
    return (Inspection.Read) inspector.inspect(new ResponseBody(json.getBytes(UTF_8), "application/fhir+json", null));
  }

  String rewrite(String json, JsonSplicer.Cut cut) {
    Inspection.Read read = read(json);
    return new String(links.rewrite(read, new LinkRewriter.PageContext("Patient", 1, "bob", Instant.parse("2026-12-06T10:00:00Z"),
        "", ""), cut).toArray(), UTF_8);
  }

  @Test
  void everyUrlOfTheEprMovesToFhirwallWhateverItsEscapingAndTheRestStaysAsItWas() throws Exception {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":3,\"entry\":[");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // plainly written, with an escaped slash in the base, with an escape after the base (é, a quote)
      String fullUrl = switch (i) {
        case 0 -> EPR + "/Patient/p" + i;
        case 1 -> EPR.replace("/", "\\/") + "/Patient/p" + i;
        default -> EPR + "/Patient/p" + i + "?x=\\u00e9\\\"";
      };
      expected.add(PUBLIC + "/Patient/p" + i + (i == 2 ? "?x=é\"" : ""));
      b.append(i == 0 ? "" : ",").append("{\"fullUrl\":\"").append(fullUrl)
          .append("\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p").append(i).append("\"}}");
    }
    b.append("]}");
    String out = rewrite(b.toString(), null);
    JsonNode tree = JSON.readTree(out);
    List<String> fullUrls = new ArrayList<>();
    tree.path("entry").forEach(e -> fullUrls.add(e.path("fullUrl").asText()));
    assertThat(fullUrls).containsExactlyElementsOf(expected);
    assertThat(out).doesNotContain("epr.internal");
    assertThat(tree.path("total").asInt()).isEqualTo(3);
  }

  @Test
  void swapsAndCutGoInOneCopyWithThePagingLinkReplaced() throws Exception {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":500,\"link\":[{\"relation\":\"next\",\"url\":\""
        + EPR + "?_getpages=abc&_getpagesoffset=20&_count=20\"}],\"entry\":[{\"fullUrl\":\"" + EPR
        + "/Patient/p1\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"}}]}";
    byte[] bytes = json.getBytes(UTF_8);
    String out = rewrite(json, EntryEdits.topLevelTotal(bytes));
    JsonNode tree = JSON.readTree(out);
    assertThat(tree.has("total")).isFalse();
    assertThat(tree.path("entry").path(0).path("fullUrl").asText()).isEqualTo(PUBLIC + "/Patient/p1");
    assertThat(tree.path("link").path(0).path("url").asText()).startsWith(PUBLIC + "?_fwpage=");
    assertThat(out).doesNotContain("epr.internal");
  }

  /**
   * URLs that are not links and start with the EPR's base as written are swapped by their bytes, without
   * being decoded; links, escaped bases, other URLs and a {@code last} link go the long way: the answer is
   * the same as if each had been decoded (the tree with every EPR URL moved, the last link gone).
   */
  @Test
  void plainUrlsSwappedByTheirBytesAndTheOthersDecodedGiveTheSameAnswer() throws Exception {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":["
        + "{\"relation\":\"self\",\"url\":\"" + EPR + "/Patient?_count=2\"},"
        + "{\"relation\":\"last\",\"url\":\"" + EPR + "?_getpages=x&_getpagesoffset=4&_count=2\"}],\"entry\":["
        + "{\"fullUrl\":\"" + EPR + "/Patient/p1\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\","
        + "\"generalPractitioner\":[{\"reference\":\"" + EPR + "/Practitioner/gp1\"}]}},"
        + "{\"fullUrl\":\"" + EPR.replace("/", "\\/") + "/Patient/p2\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p2\","
        + "\"managingOrganization\":{\"reference\":\"https://elsewhere.example/fhir/Organization/o1\"}}},"
        + "{\"fullUrl\":\"" + EPR + "\\u002fPatient/p3\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p3\"}}]}";
    String out = rewrite(json, null);
    JsonNode tree = JSON.readTree(out);
    com.fasterxml.jackson.databind.node.ObjectNode expected = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(
        JSON.readTree(json).toString().replace(EPR, PUBLIC));
    ((com.fasterxml.jackson.databind.node.ArrayNode) expected.get("link")).remove(1);
    assertThat(tree).isEqualTo(expected);
    assertThat(out).doesNotContain("epr.internal").doesNotContain("\"last\"");
    assertThat(out).as("the plainly written ones keep their bytes after the base")
        .contains("\"fullUrl\":\"" + PUBLIC + "/Patient/p1\"", "\"reference\":\"" + PUBLIC + "/Practitioner/gp1\"");
  }

  /** The rewritten body is the EPR's array and the edits (written out piece by piece), not a copy; no edit, no splice. */
  @Test
  void theRewrittenBodyIsNotCopied() {
    String json = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"fullUrl\":\"" + EPR
        + "/Patient/p1\",\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"}}]}";
    Inspection.Read read = read(json);
    LinkRewriter.PageContext page = new LinkRewriter.PageContext("Patient", 1, "bob", Instant.parse("2026-12-06T10:00:00Z"), "", "");
    Body body = links.rewrite(read, page);
    assertThat(body.isSpliced()).isTrue();
    assertThat(new String(body.toArray(), UTF_8)).isEqualTo(json.replace(EPR, PUBLIC));
    String plain = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}";
    Inspection.Read unchanged = read(plain);
    Body same = links.rewrite(unchanged, page);
    assertThat(same.isSpliced()).isFalse();
    assertThat(same.toArray()).isSameAs(unchanged.json());
  }
}
