package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonTokens} accepts exactly what Jackson's strict parser (the inspector's parser before it)
 * accepts: the same tokens, at the same offsets, for what both read; a refusal by both for the
 * rest. Edge cases of the grammar one by one, then random damage to a FHIR body.
 */
class JsonTokensTest {
  static final JsonFactory JACKSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(10_000).build())
      .build();

  @Test
  void grammarEdgesAreAcceptedOrRefusedAsJacksonDoes() {
    String[] values = {
        "0", "-0", "01", "-01", "00", "1.", "1.5", ".5", "-", "-a", "+1", "1e5", "1E+5", "1e-5", "1e", "1e+", "1.5e3",
        "0.0", "1.0e", "NaN", "Infinity", "-Infinity", "1a", "1 2", "true", "tru", "truex", "false", "null", "nul",
        "nullx", "True", "\"\"", "\"a\\\"b\"", "\"\\/\"", "\"\\b\\f\\n\\r\\t\"", "\"\\u00e9\"", "\"\\u00G9\"", "\"\\u12\"",
        "\"\\x\"", "\"\\'\"", "\"a\tb\"", "\"a\nb\"", "\"\u007f\"", "'a'", "[]", "[1,]", "[,1]", "[1,,2]", "[1 2]", "{}",
        "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[[[]]]", "[1]]", "[{]}", "\"é\"",
        "\"𝄞\"", "\"\\ud834\\udd1e\"", "\"\\ud834\"", "// c\n1", "/* c */1", "#c\n1", "1 ", "\u00a01", "\"a\" ",
        "9".repeat(1000), "9".repeat(1001), "-" + "9".repeat(1000), "-" + "9".repeat(1001),
        "1." + "9".repeat(998), "1." + "9".repeat(999), "1e" + "9".repeat(998), "1e" + "9".repeat(999),
        "1.5e+" + "9".repeat(997), "1.5e+" + "9".repeat(998), "0." + "0".repeat(999),
    };
    for (String value : values) {
      assertAlike(("{\"a\":" + value + "}").getBytes(UTF_8), false);
      assertAlike(("{\"a\":[" + value + "]}").getBytes(UTF_8), false);
    }
    String[] names = {"\"\"", "\"a\\u0062\"", "\"é\"", "\"a\\q\"", "\"a\tb\"", "\"" + "n".repeat(50_000) + "\"",
        "\"" + "n".repeat(50_001) + "\"", "\"" + "é".repeat(25_000) + "\"", "\"" + "é".repeat(25_000) + "x\"",
        "\"" + "\\u0041".repeat(50_000) + "\"", "\"" + "\\u0041".repeat(50_001) + "\""};
    for (String name : names) {
      assertAlike(("{" + name + ":1}").getBytes(UTF_8), false);
    }
    String[] documents = {"", " ", "{}", " {} ", "{}{}", "{} {}", "{}\n{}\n", "{} x", "{} 1", "[]", "1", "\"x\"", "{",
        "{\"a\":1", "{\"a\":\"x", "{\"a\":\"x\\", "{\"a\":\"\\u00", "\u0000{}", "{}\u0000", "{\u000b}", "\ufeff{}",
        "{}\ufeff", " \ufeff{}", "\r\n\t{}\r\n"};
    for (String document : documents) {
      assertAlike(document.getBytes(UTF_8), false);
      assertAlike(document.getBytes(UTF_8), true);
    }
  }

  @Test
  void utf8IsCheckedAsJacksonChecksIt() {
    int[][] sequences = {{0x80}, {0xBF}, {0xC0, 0x80}, {0xC1, 0xBF}, {0xC3}, {0xC3, 0x41}, {0xC3, 0xA9}, {0xE0, 0x80, 0x80},
        {0xED, 0xA0, 0x80}, {0xE2, 0x82}, {0xE2, 0x82, 0xAC}, {0xF0, 0x9D, 0x84, 0x9E}, {0xF4, 0x90, 0x80, 0x80},
        {0xF5, 0x80, 0x80, 0x80}, {0xF7, 0xBF, 0xBF, 0xBF}, {0xF8, 0x80, 0x80, 0x80, 0x80}, {0xFE}, {0xFF},
        {0xF0, 0x9D, 0x84}, {0xF0, 0x22}};
    for (int[] sequence : sequences) {
      byte[] bytes = new byte[sequence.length];
      for (int i = 0; i < sequence.length; i++) {
        bytes[i] = (byte) sequence[i];
      }
      for (String[] around : new String[][] {{"{\"a\":\"", "\"}"}, {"{\"", "\":1}"}, {"{\"a\":[\"x", "y\"]}"}}) {
        byte[] before = around[0].getBytes(UTF_8);
        byte[] after = around[1].getBytes(UTF_8);
        byte[] body = new byte[before.length + bytes.length + after.length];
        System.arraycopy(before, 0, body, 0, before.length);
        System.arraycopy(bytes, 0, body, before.length, bytes.length);
        System.arraycopy(after, 0, body, before.length + bytes.length, after.length);
        assertAlike(body, false);
      }
    }
  }

  @Test
  void aStopByteAtEveryPlaceOfAnEightByteWordIsSeen() {
    // Strings and names are scanned a word at a time: put each byte that ends a plain run at each
    // offset of strings around word sizes, also where fewer than eight bytes are left in the body.
    String[] stops = {"\"", "\\n", "\\u00e9", "\\q", "\u0001", "\u001f", "\u007f", "é", "\u20ac", "\ud834\udd1e", " ", "~"};
    for (int length = 0; length <= 19; length++) {
      for (int at = 0; at <= length; at++) {
        for (String stop : stops) {
          String text = "a".repeat(at) + stop + "b".repeat(length - at);
          assertAlike(("{\"k\":\"" + text + "\"}").getBytes(UTF_8), false);
          assertAlike(("{\"" + text + "\":1}").getBytes(UTF_8), false);
          assertAlike(("{\"k\":[\"" + text + "\",\"" + text + "\"],\"" + text + "\":\"x\"}").getBytes(UTF_8), false);
          assertAlike(("{\"k\":\"" + text).getBytes(UTF_8), false);
        }
        byte[] raw = ("{\"k\":\"" + "a".repeat(at) + "?" + "b".repeat(length - at) + "\"}").getBytes(UTF_8);
        for (int b : new int[] {0x00, 0x0a, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xc3, 0xff}) {
          raw[6 + at] = (byte) b;
          assertAlike(raw.clone(), false);
        }
      }
    }
  }

  @Test
  void theLowestStopOfAWordIsItsFirstQuoteBackslashControlOrNonAsciiByte() {
    // JsonTokens.stops marks the bytes that end plain string content; only its lowest mark is read.
    // Every byte value at every offset, over plain bytes below it and any bytes above it.
    Random random = new Random(5);
    for (int at = 0; at < 8; at++) {
      for (int value = 0; value < 256; value++) {
        for (int round = 0; round < 40; round++) {
          byte[] bytes = new byte[8];
          for (int k = 0; k < 8; k++) {
            bytes[k] = (byte) (k < at ? 0x20 + random.nextInt(0x60) : random.nextInt(256));
            if (k < at && (bytes[k] == '"' || bytes[k] == '\\')) {
              bytes[k] = 'a';
            }
          }
          bytes[at] = (byte) value;
          long word = (long) JsonTokens.LONGS.get(bytes, 0);
          int first = 8;
          for (int k = 0; k < 8; k++) {
            int c = bytes[k] & 0xFF;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
              first = k;
              break;
            }
          }
          long stops = JsonTokens.stops(word);
          assertThat(stops == 0 ? 8 : Long.numberOfTrailingZeros(stops) >>> 3).as("%016x", word).isEqualTo(first);
          assertThat(stops == 0 || (Long.numberOfTrailingZeros(stops) & 7) == 7).as("%016x: a high bit", word).isTrue();
        }
      }
    }
  }

  @Test
  void everyNameIsCodedFromItsWordsWhateverItsLengthAndWhereverItEnds() {
    // A plain name of up to sixteen bytes is coded from the two words read to find its end; any other
    // name (longer, escaped, non-ASCII, malformed, near the body's end) is read on. Keys of 1 to 20
    // bytes, the same names changed in one byte (in either word), cut short and made longer, with a
    // stop byte at every offset, each at the start of a body and near its end: the code is the table's
    // code of the name's text (-1 for a name that is not plain), and the tokens are the plain tokenizer's.
    java.util.Map<String, Integer> keys = new java.util.HashMap<>();
    for (int length = 1; length <= 20; length++) {
      keys.put("resourceTypeXYZWabcd".substring(0, length), length);
      keys.put("identifierIdentifie".repeat(2).substring(0, length).toUpperCase(java.util.Locale.ROOT), 100 + length);
    }
    NameTable names = new NameTable(keys);
    List<String> candidates = new ArrayList<>();
    String[] stops = {"\\n", "\\u0061", "\u00e9", "\u0001", "\\q", "\""};
    for (String key : keys.keySet()) {
      candidates.add(key);
      candidates.add(key + "s");
      candidates.add(key.substring(0, key.length() - 1));
      for (int at = 0; at < key.length(); at++) {
        candidates.add(key.substring(0, at) + "~" + key.substring(at + 1));
        for (String stop : stops) {
          candidates.add(key.substring(0, at) + stop + key.substring(at + 1));
        }
      }
    }
    int coded = 0;
    for (String name : candidates) {
      for (String body : new String[] {"{\"" + name + "\":\"v\",\"id\":[1]}", "{\"id\":1,\"" + name + "\":\"x\"}",
          "{\"" + name + "\":{\"" + name + "\":\"w\"}}", "{\"" + name + "\":"}) {
        byte[] bytes = body.getBytes(UTF_8);
        List<String> plain = tokens(bytes, false);
        JsonTokens t = new JsonTokens(names, 0, 0);
        t.reset(bytes, false);
        List<String> seen = new ArrayList<>();
        try {
          int token;
          int lastName = -1;
          while ((token = t.next()) != JsonTokens.END) {
            if (token != JsonTokens.END_OBJECT && token != JsonTokens.END_ARRAY && t.nameStart != lastName) {
              seen.add("name " + t.name());
              lastName = t.nameStart;
              int expected = t.nameFlags == 0 ? names.code(t.name()) : -1;
              assertThat(t.nameCode).as("code of %s in %s", t.name(), body).isEqualTo(expected);
              coded += expected > 0 ? 1 : 0;
            }
            seen.add(token + "@" + t.start);
          }
        } catch (UnreadableException e) {
          seen = null;
        }
        assertThat(seen == null).as("refusal of %s", body).isEqualTo(plain == null);
      }
    }
    assertThat(coded).as("names found in the table").isGreaterThan(100);
  }

  @Test
  void randomDamageIsAcceptedOrRefusedAsJacksonDoes() {
    Random random = new Random(7);
    byte[] alphabet = "{}[]\",:\\/ \t\n\r0123456789-+.eEtrufalsn\u00e9xu".getBytes(UTF_8);
    int accepted = 0;
    int runs = 0;
    for (String text : HapiModelEquivalenceTest.corpus()) {
      byte[] body = text.getBytes(UTF_8);
      for (int i = 0; i < 400; i++) {
        byte[] copy = damage(body, random, alphabet);
        accepted += assertAlike(copy, i % 2 == 0) ? 1 : 0;
        runs++;
      }
    }
    assertThat(accepted).as("accepted among %d damaged bodies", runs).isBetween(1, runs - 1);
  }

  @Test
  void aTokenizerWithNamesReturnsEveryTokenButTheQuietValuesAndCodesEveryName() {
    // Quiet: a scalar, or a string of fewer than 6 raw bytes, in an array or under a plain name
    // whose code has none of the loud bits (0xFF); "system" has the quiet bit 0x100 only.
    NameTable names = new NameTable(java.util.Map.of("reference", 3, "id", 2, "resourceType", 1, "system", 0x100));
    Random random = new Random(11);
    byte[] alphabet = "{}[]\",:\\/ \t\n\r0123456789-+.eEtrufalsn\u00e9xu".getBytes(UTF_8);
    List<byte[]> bodies = new ArrayList<>();
    for (String text : HapiModelEquivalenceTest.corpus()) {
      byte[] body = text.getBytes(UTF_8);
      bodies.add(body);
      for (int i = 0; i < 100; i++) {
        bodies.add(damage(body, random, alphabet));
      }
    }
    for (String text : new String[] {"abcd", "abcde", "abcdef", "a\\nb", "\u00e9t\u00e9", "abcdefghijklmnopq"}) {
      for (String name : new String[] {"k", "id", "system", "reference", "resourceType", "i\\u0064", "longer_than_eight"}) {
        bodies.add(("{\"" + name + "\":\"" + text + "\",\"" + name + "\":[\"" + text + "\",1,null],\"" + name + "\":-1.5e2,"
            + "\"" + name + "\":{\"" + name + "\":true},\"" + name + "\":\"" + text).getBytes(UTF_8));
        bodies.add(("{\"" + name + "\":\"" + text + "\"}").getBytes(UTF_8));
      }
    }
    int quiet = 0;
    for (byte[] body : bodies) {
      List<String> all = new ArrayList<>();
      JsonTokens every = new JsonTokens(body, false);
      JsonTokens some = new JsonTokens(names, 0xFF, 6);
      some.reset(body, false);
      List<String> returned = new ArrayList<>();
      try {
        int token;
        int lastName = -1;
        while ((token = every.next()) != JsonTokens.END) {
          if (token >= JsonTokens.STRING && (token != JsonTokens.STRING || every.end - every.start - 2 < 6)
              && (!every.inObject() || every.nameFlags == 0 && (names.code(every.name()) & 0xFF) == 0)) {
            quiet++;
            continue;
          }
          String seen = token + "@" + every.start;
          if (token != JsonTokens.END_OBJECT && token != JsonTokens.END_ARRAY && every.nameStart != lastName) {
            lastName = every.nameStart; // a name not shown yet (an array's items keep the last name read)
            seen += " " + every.name() + "=" + (every.nameFlags == 0 ? names.code(every.name()) : -1);
          }
          all.add(seen);
        }
        all.add("end");
      } catch (UnreadableException e) {
        all.add("refused: " + e.getMessage());
      }
      try {
        int token;
        int lastName = -1;
        while ((token = some.next()) != JsonTokens.END) {
          String seen = token + "@" + some.start;
          if (token != JsonTokens.END_OBJECT && token != JsonTokens.END_ARRAY && some.nameStart != lastName) {
            lastName = some.nameStart;
            seen += " " + some.name() + "=" + some.nameCode;
          }
          returned.add(seen);
        }
        returned.add("end");
      } catch (UnreadableException e) {
        returned.add("refused: " + e.getMessage());
      }
      assertThat(returned).as(new String(body, UTF_8)).isEqualTo(all);
    }
    assertThat(quiet).as("quiet values among the bodies").isGreaterThan(1000);
  }

  private static byte[] damage(byte[] body, Random random, byte[] alphabet) {
    byte[] copy = body;
    for (int d = 0; d <= random.nextInt(3); d++) {
      int at = random.nextInt(copy.length);
      byte b = random.nextInt(4) == 0 ? (byte) random.nextInt(256) : alphabet[random.nextInt(alphabet.length)];
      switch (random.nextInt(3)) {
        case 0 -> {
          copy = copy.clone();
          copy[at] = b;
        }
        case 1 -> {
          byte[] longer = new byte[copy.length + 1];
          System.arraycopy(copy, 0, longer, 0, at);
          longer[at] = b;
          System.arraycopy(copy, at, longer, at + 1, copy.length - at);
          copy = longer;
        }
        default -> {
          byte[] shorter = new byte[copy.length - 1];
          System.arraycopy(copy, 0, shorter, 0, at);
          System.arraycopy(copy, at + 1, shorter, at, copy.length - at - 1);
          copy = shorter;
        }
      }
    }
    return copy;
  }

  /** Asserts both read {@code body} to the same tokens or both refuse it; returns whether they read it. */
  static boolean assertAlike(byte[] body, boolean multipleRoots) {
    List<String> expected = jackson(body, multipleRoots);
    List<String> actual = tokens(body, multipleRoots);
    String what = new String(body, UTF_8);
    if (expected == null) {
      assertThat(actual).as("refusal of %s", what.length() > 300 ? what.substring(0, 300) + "..." : what).isNull();
      return false;
    }
    assertThat(actual).as("tokens of %s", what.length() > 300 ? what.substring(0, 300) + "..." : what).isEqualTo(expected);
    return true;
  }

  /** Jackson's tokens (type@offset, strings with their text), or null when it refuses or a root is not an object. */
  static List<String> jackson(byte[] body, boolean multipleRoots) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int roots = 0;
    try (JsonParser p = JACKSON.createParser(body)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (depth == 0 && (t != JsonToken.START_OBJECT || (++roots > 1 && !multipleRoots))) {
          return null;
        }
        switch (t) {
          case FIELD_NAME -> out.add("name " + p.currentName());
          case START_OBJECT, START_ARRAY -> {
            depth++;
            out.add(t + "@" + p.currentTokenLocation().getByteOffset());
          }
          case END_OBJECT, END_ARRAY -> {
            depth--;
            out.add(t + "@" + p.currentTokenLocation().getByteOffset());
          }
          case VALUE_STRING -> out.add("string@" + p.currentTokenLocation().getByteOffset() + " " + p.getText());
          case VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> out.add(t.toString());
          default -> out.add("number " + p.getText());
        }
      }
    } catch (IOException e) {
      return null;
    }
    return out;
  }

  static List<String> tokens(byte[] body, boolean multipleRoots) {
    List<String> out = new ArrayList<>();
    JsonTokens t = new JsonTokens(body, multipleRoots);
    try {
      int token;
      int lastName = -1;
      while ((token = t.next()) != JsonTokens.END) {
        if (token != JsonTokens.END_OBJECT && token != JsonTokens.END_ARRAY && t.nameStart != lastName) {
          out.add("name " + t.name());
          lastName = t.nameStart;
        }
        switch (token) {
          case JsonTokens.START_OBJECT -> out.add("START_OBJECT@" + t.start);
          case JsonTokens.START_ARRAY -> out.add("START_ARRAY@" + t.start);
          case JsonTokens.END_OBJECT -> out.add("END_OBJECT@" + t.start);
          case JsonTokens.END_ARRAY -> out.add("END_ARRAY@" + t.start);
          case JsonTokens.STRING -> out.add("string@" + t.start + " " + t.text());
          case JsonTokens.TRUE -> out.add("VALUE_TRUE");
          case JsonTokens.FALSE -> out.add("VALUE_FALSE");
          case JsonTokens.NULL -> out.add("VALUE_NULL");
          default -> out.add("number " + new String(Arrays.copyOfRange(body, t.start, t.end), UTF_8));
        }
      }
    } catch (UnreadableException e) {
      return null;
    }
    return out;
  }
}
