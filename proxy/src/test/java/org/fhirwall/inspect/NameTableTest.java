package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link NameTable} compares keys as a length and words of eight bytes: every key length around
 * the word sizes is found wherever it stands in a buffer (the end of the buffer included), from its
 * bytes and from its words, and a name that differs from a key in any one byte, or in its length, is not.
 */
class NameTableTest {
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

  @Test
  void keysOfEveryLengthAreFoundAnywhereAndNearMissesAreNot() {
    Map<String, Integer> entries = new HashMap<>();
    for (int length = 1; length <= 40; length++) {
      entries.put(key(length, 0), length);
      entries.put(key(length, 1), 100 + length); // same length, same first bytes when long enough
    }
    NameTable table = new NameTable(entries);
    for (Map.Entry<String, Integer> e : entries.entrySet()) {
      String key = e.getKey();
      for (String before : new String[] {"", "x", "\"xyzxyzx"}) {
        for (String after : new String[] {"", "\"", "\":1}", "\":{\"resourceType\":\"Patient\"}"}) {
          byte[] buf = (before + key + after).getBytes(UTF_8);
          assertThat(table.code(buf, before.length(), key.length())).as("%s in %s", key, new String(buf, UTF_8))
              .isEqualTo(e.getValue());
          assertThat(table.find(buf, before.length(), key.length())).isSameAs(table.key(key));
          // The same lookup from the name's first two words, as JsonTokens reads them.
          assertThat(words(table, buf, before.length(), key.length())).isEqualTo(e.getValue());
          assertThat(words(table, buf, before.length(), key.length() - 1)).isNotEqualTo(e.getValue());
          assertThat(table.code(buf, before.length(), key.length() - 1)).as("a prefix of %s", key).isNotEqualTo(e.getValue());
        }
        for (int i = 0; i < key.length(); i++) {
          byte[] buf = (before + key + "\"}").getBytes(UTF_8);
          buf[before.length() + i] = (byte) (buf[before.length() + i] == '~' ? '!' : '~');
          assertThat(table.code(buf, before.length(), key.length())).as("%s changed at %d", key, i).isZero();
          assertThat(words(table, buf, before.length(), key.length())).isZero();
          assertThat(table.find(buf, before.length(), key.length())).isNull();
        }
      }
      assertThat(table.code(key)).isEqualTo(e.getValue());
      assertThat(table.code(key + "x")).isNotEqualTo(e.getValue());
    }
    assertThat(table.code("")).isZero();
    assertThat(table.code(new byte[0], 0, 0)).isZero();
    assertThat(table.code("é")).isZero();
    assertThat(table.key("\u00e9t\u00e9")).isNull();
    assertThat(table.code((String) null)).isZero();
  }

  @Test
  void shortNamesAreFoundFromTheirWordsWhetherOrNotTheirTableIsFreeOfCollisions() {
    // Few short keys: a table without collisions (one slot per name); thousands: none is found, and
    // the lookup from the words falls back to the open-addressed table. Both answer alike, for keys
    // of one word and of two (a key of nine to sixteen bytes shares its first word with others).
    for (int count : new int[] {20, 60, 3000}) {
      for (String prefix : new String[] {"", "resource", "identifi"}) {
        Map<String, Integer> entries = new HashMap<>();
        entries.put(prefix.isEmpty() ? "x" : prefix, 1); // a one-word key that is the others' first word
        for (int i = 0; entries.size() < count; i++) {
          String suffix = Integer.toString(i * 7919, 36); // 1 to 8 bytes
          entries.put(prefix + suffix, entries.size() + 1);
        }
        NameTable table = new NameTable(entries);
        for (Map.Entry<String, Integer> e : entries.entrySet()) {
          byte[] buf = ("\"" + e.getKey() + "\":1}").getBytes(UTF_8);
          int len = e.getKey().length();
          assertThat(words(table, buf, 1, len)).as(e.getKey()).isEqualTo(e.getValue());
          byte[] other = ("\"" + e.getKey() + "~\":1}").getBytes(UTF_8);
          assertThat(words(table, other, 1, len + 1)).as(e.getKey() + "~").isZero();
          if (len > 1) {
            assertThat(words(table, buf, 1, len - 1)).as(e.getKey() + " cut").isNotEqualTo(e.getValue());
          }
        }
        byte[] empty = "\"\":1}".getBytes(UTF_8);
        assertThat(table.code(0L, 0L, empty, 1, 0)).isZero();
      }
    }
  }

  private static String key(int length, int variant) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < length; i++) {
      s.append(ALPHABET.charAt((i * 7 + (i == length - 1 ? variant * 13 : 0)) % ALPHABET.length()));
    }
    return s.toString();
  }

  /** {@code table}'s code of {@code buf[off..off+len)} from its words, as {@link JsonTokens} reads them. */
  private static int words(NameTable table, byte[] buf, int off, int len) {
    return table.code(word(buf, off, Math.min(len, 8)), len > 8 ? word(buf, off + 8, Math.min(len - 8, 8)) : 0L, buf, off, len);
  }

  /** The {@code len} bytes at {@code off}, little-endian, zero above them. */
  private static long word(byte[] buf, int off, int len) {
    long word = 0;
    for (int k = len - 1; k >= 0; k--) {
      word = word << 8 | (buf[off + k] & 0xFF);
    }
    return word;
  }
}
