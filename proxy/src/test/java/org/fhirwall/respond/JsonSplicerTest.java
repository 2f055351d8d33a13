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

  /**
   * A body spliced without a copy ({@link JsonSplicer#spliced}) writes, piece by piece, exactly the bytes
   * of the copy ({@link JsonSplicer#splice}) and of a plain edit of the text, whatever the edits: swaps
   * (insertions, removals, replacements) at the body's start and end, next to each other, given in any
   * order, a cut, quoted replacements; and no piece is empty.
   */
  @Test
  void aSplicedBodyWritesTheBytesOfTheCopyForAnyEdits() {
    java.util.Random random = new java.util.Random(18);
    for (int round = 0; round < 3_000; round++) {
      int n = random.nextInt(60);
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < n; i++) {
        text.append(random.nextInt(8) == 0 ? "\"x\"" : String.valueOf((char) ('a' + random.nextInt(26))));
      }
      byte[] json = text.toString().getBytes(UTF_8);
      // edits apart from each other: walk the body, now and then taking a span
      List<JsonSplicer.Replacement> replacements = new java.util.ArrayList<>();
      List<JsonSplicer.Swap> swaps = new java.util.ArrayList<>();
      JsonSplicer.Cut cut = null;
      java.util.TreeMap<Integer, Object[]> expected = new java.util.TreeMap<>(); // start -> {end, bytes}
      int at = 0;
      while (at <= json.length) {
        int kind = random.nextInt(5);
        if (kind == 0 && at + 3 <= json.length && json[at] == '"' && json[at + 2] == '"') {
          String value = random.nextBoolean() ? "https://proxy/fhir/Patient/" + round : "";
          replacements.add(new JsonSplicer.Replacement(new UrlOccurrence(at, at + 3, "x", null), value));
          expected.put(at, new Object[] {at + 3, JsonSplicer.quote(value)});
          at += 3;
        } else if (kind == 1) {
          int to = Math.min(json.length, at + random.nextInt(4));
          byte[] bytes = random.nextInt(3) == 0 ? new byte[0] : ("<" + round + ">").getBytes(UTF_8);
          swaps.add(new JsonSplicer.Swap(at, to, bytes));
          expected.put(at, new Object[] {to, bytes});
          at = to == at ? at + 1 : to; // two insertions at one place would be an overlap
        } else if (kind == 2 && cut == null) {
          int to = Math.min(json.length, at + 1 + random.nextInt(5));
          cut = new JsonSplicer.Cut(at, to);
          expected.put(at, new Object[] {to, new byte[0]});
          at = to + 1;
        } else {
          at += 1 + random.nextInt(6);
        }
      }
      java.util.Collections.shuffle(swaps, random);
      java.io.ByteArrayOutputStream plain = new java.io.ByteArrayOutputStream();
      int from = 0;
      for (var e : expected.entrySet()) {
        plain.write(json, from, e.getKey() - from);
        plain.writeBytes((byte[]) e.getValue()[1]);
        from = (Integer) e.getValue()[0];
      }
      plain.write(json, from, json.length - from);

      Body body = JsonSplicer.spliced(json, replacements, swaps, cut);
      java.io.ByteArrayOutputStream pieces = new java.io.ByteArrayOutputStream();
      body.writeTo((bytes, offset, length) -> {
        assertThat(length).as("no empty piece").isPositive();
        pieces.write(bytes, offset, length);
      });
      byte[] copy = JsonSplicer.splice(json, replacements, swaps, cut);
      assertThat(pieces.toByteArray()).as("round %d: %s", round, text).isEqualTo(plain.toByteArray()).isEqualTo(copy)
          .isEqualTo(body.toArray()).hasSize(body.length());
      assertThat(body.isSpliced()).isEqualTo(!expected.isEmpty());
    }
  }

  @Test
  void aBodyWithoutEditsIsItsArrayAndAnEmptyOneWritesNothing() {
    byte[] json = "{\"a\":\"b\"}".getBytes(UTF_8);
    Body body = JsonSplicer.spliced(json, List.of(), List.of(), null);
    assertThat(body.isSpliced()).isFalse();
    assertThat(body.toArray()).isSameAs(json);
    assertThat(body.length()).isEqualTo(json.length);
    List<Integer> lengths = new java.util.ArrayList<>();
    Body.of(new byte[0]).writeTo((bytes, offset, length) -> lengths.add(length));
    Body.EMPTY.writeTo((bytes, offset, length) -> lengths.add(length));
    assertThat(lengths).isEmpty();
    assertThat(Body.of(new byte[0])).isSameAs(Body.EMPTY);
    assertThat(JsonSplicer.spliced(json, List.of(), List.of(), new JsonSplicer.Cut(0, json.length)).length()).isZero();
  }

  @Test
  void splicedChecksItsEditsAsSpliceDoes() {
    String json = "{\"a\":\"http://epr/x\",\"total\":1}";
    byte[] bytes = json.getBytes(UTF_8);
    UrlOccurrence url = at(json, "\"http://epr/x\"");
    assertThatThrownBy(() -> JsonSplicer.spliced(bytes, List.of(new JsonSplicer.Replacement(url, "y")), List.of(),
        new JsonSplicer.Cut(url.start() + 2, url.end() + 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
    assertThatThrownBy(() -> JsonSplicer.spliced(bytes, List.of(), List.of(new JsonSplicer.Swap(3, bytes.length + 1, new byte[0])), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inside");
  }
}
