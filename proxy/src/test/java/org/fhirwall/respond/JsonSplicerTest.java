package org.fhirwall.respond;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.fhirwall.inspect.UrlOccurrence;
import org.junit.jupiter.api.Test;

class JsonSplicerTest {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private static UrlOccurrence at(String json, String token) {
    int start = json.substring(0, json.indexOf(token)).getBytes(UTF_8).length;
    return new UrlOccurrence(start, start + token.getBytes(UTF_8).length, "ignored", null);
  }

  @Test
  void replacesTokensGivenInAnyOrder() throws Exception {
    String json = "{\"a\":\"http://epr/fhir/Patient/1\",\"b\":[\"x\",\"http://epr/fhir/Observation?page=2\"],\"c\":1}";
    byte[] out = JsonSplicer.splice(json.getBytes(UTF_8), List.of(
        new JsonSplicer.Replacement(at(json, "\"http://epr/fhir/Observation?page=2\""), "https://proxy/p/abc"),
        new JsonSplicer.Replacement(at(json, "\"http://epr/fhir/Patient/1\""), "https://proxy/fhir/Patient/1")));
    assertThat(new String(out, UTF_8))
        .isEqualTo("{\"a\":\"https://proxy/fhir/Patient/1\",\"b\":[\"x\",\"https://proxy/p/abc\"],\"c\":1}");
  }

  @Test
  void escapesTheNewValue() throws Exception {
    String json = "{\"u\":\"old\",\"k\":\"é\"}";
    String nasty = "a\"b\\c\nd\u0001é\u2028";
    byte[] out = JsonSplicer.splice(json.getBytes(UTF_8), List.of(new JsonSplicer.Replacement(at(json, "\"old\""), nasty)));
    JsonNode node = MAPPER.readTree(out);
    assertThat(node.get("u").asText()).isEqualTo(nasty);
    assertThat(node.get("k").asText()).isEqualTo("é");
  }

  @Test
  void replacesATokenThatHoldsEscapes() throws Exception {
    String json = "{\"u\":\"a\\\"b\\\\\",\"v\":2}";
    byte[] out = JsonSplicer.splice(json.getBytes(UTF_8), List.of(new JsonSplicer.Replacement(at(json, "\"a\\\"b\\\\\""), "new")));
    assertThat(new String(out, UTF_8)).isEqualTo("{\"u\":\"new\",\"v\":2}");
  }

  @Test
  void noReplacementsGiveAnEqualCopy() {
    byte[] json = "{\"a\":\"b\"}".getBytes(UTF_8);
    byte[] out = JsonSplicer.splice(json, List.of());
    assertThat(out).isEqualTo(json).isNotSameAs(json);
  }

  @Test
  void overlappingReplacementsAreRefused() {
    String json = "{\"a\":\"bbbb\"}";
    UrlOccurrence whole = at(json, "\"bbbb\"");
    UrlOccurrence inner = new UrlOccurrence(whole.start() + 1, whole.end(), "x", null);
    assertThatThrownBy(() -> JsonSplicer.splice(json.getBytes(UTF_8), List.of(
        new JsonSplicer.Replacement(whole, "x"), new JsonSplicer.Replacement(whole, "y"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
    assertThatThrownBy(() -> JsonSplicer.splice(json.getBytes(UTF_8), List.of(new JsonSplicer.Replacement(inner, "x"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quoted");
  }

  @Test
  void rangesOutsideTheBodyOrNotOnAStringAreRefused() {
    byte[] json = "{\"a\":1}".getBytes(UTF_8);
    assertThatThrownBy(() -> JsonSplicer.splice(json, List.of(new JsonSplicer.Replacement(new UrlOccurrence(5, 50, "x", null), "y"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inside");
    assertThatThrownBy(() -> JsonSplicer.splice(json, List.of(new JsonSplicer.Replacement(new UrlOccurrence(5, 6, "x", null), "y"))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** A withheld total is cut in the same copy as the links are rewritten: the result is both edits, one after the other. */
  @Test
  void aCutGoesWithTheReplacementsInOneCopy() {
    String json = "{\"resourceType\":\"Bundle\",\"total\":500,\"link\":[{\"relation\":\"next\",\"url\":\"http://epr/fhir?p=2\"}],"
        + "\"entry\":[{\"fullUrl\":\"http://epr/fhir/Patient/1\"}]}";
    byte[] bytes = json.getBytes(UTF_8);
    JsonSplicer.Cut total = EntryEdits.topLevelTotal(bytes);
    List<JsonSplicer.Replacement> links = List.of(
        new JsonSplicer.Replacement(at(json, "\"http://epr/fhir/Patient/1\""), "https://proxy/fhir/Patient/1"),
        new JsonSplicer.Replacement(at(json, "\"http://epr/fhir?p=2\""), "https://proxy/fhir?_fwpage=x"));
    byte[] once = JsonSplicer.splice(bytes, links, total);
    byte[] twice = EntryEdits.withoutTopLevelTotalParsed(JsonSplicer.splice(bytes, links));
    assertThat(new String(once, UTF_8)).isEqualTo(new String(twice, UTF_8))
        .isEqualTo("{\"resourceType\":\"Bundle\",\"link\":[{\"relation\":\"next\",\"url\":\"https://proxy/fhir?_fwpage=x\"}],"
            + "\"entry\":[{\"fullUrl\":\"https://proxy/fhir/Patient/1\"}]}");
    assertThat(JsonSplicer.splice(bytes, List.of(), total)).isEqualTo(EntryEdits.withoutTopLevelTotal(bytes));
  }

  @Test
  void aCutOverlappingAReplacementOrOutsideTheBodyIsRefused() {
    String json = "{\"a\":\"http://epr/x\",\"total\":1}";
    byte[] bytes = json.getBytes(UTF_8);
    UrlOccurrence url = at(json, "\"http://epr/x\"");
    assertThatThrownBy(() -> JsonSplicer.splice(bytes, List.of(new JsonSplicer.Replacement(url, "y")),
        new JsonSplicer.Cut(url.start() + 2, url.end() + 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
    assertThatThrownBy(() -> JsonSplicer.splice(bytes, List.of(), new JsonSplicer.Cut(3, bytes.length + 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inside");
    assertThatThrownBy(() -> new JsonSplicer.Cut(5, 4)).isInstanceOf(IllegalArgumentException.class);
  }
}
