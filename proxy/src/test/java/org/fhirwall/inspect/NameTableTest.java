package org.fhirwall.inspect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link NameTable} compares keys as a length and words of eight bytes: every key length around
 * the word sizes is found wherever it stands in a buffer (the end of the buffer included), and a
 * name that differs from a key in any one byte, or in its length, is not.
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
          // The same lookup from the name's first word, as JsonTokens reads it.
          assertThat(table.code(first(buf, before.length(), key.length()), buf, before.length(), key.length()))
              .isEqualTo(e.getValue());
          assertThat(table.code(first(buf, before.length(), key.length() - 1), buf, before.length(), key.length() - 1))
              .isNotEqualTo(e.getValue());
          assertThat(table.code(buf, before.length(), key.length() - 1)).as("a prefix of %s", key).isNotEqualTo(e.getValue());
        }
        for (int i = 0; i < key.length(); i++) {
          byte[] buf = (before + key + "\"}").getBytes(UTF_8);
          buf[before.length() + i] = (byte) (buf[before.length() + i] == '~' ? '!' : '~');
          assertThat(table.code(buf, before.length(), key.length())).as("%s changed at %d", key, i).isZero();
          assertThat(table.code(first(buf, before.length(), key.length()), buf, before.length(), key.length())).isZero();
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
  void shortNamesAreFoundFromTheirWordWhetherOrNotTheirTableIsFreeOfCollisions() {
    // Few short keys: a table without collisions (one slot per name); thousands: none is found, and
    // the lookup from the word falls back to the open-addressed table. Both answer alike.
    for (int count : new int[] {20, 3000}) {
      Map<String, Integer> entries = new HashMap<>();
      for (int i = 0; entries.size() < count; i++) {
        entries.put(Integer.toString(i * 7919, 36), entries.size() + 1); // 1 to 8 bytes
      }
      NameTable table = new NameTable(entries);
      for (Map.Entry<String, Integer> e : entries.entrySet()) {
        byte[] buf = ("\"" + e.getKey() + "\":1}").getBytes(UTF_8);
        int len = e.getKey().length();
        assertThat(table.code(first(buf, 1, len), buf, 1, len)).as(e.getKey()).isEqualTo(e.getValue());
        byte[] other = ("\"" + e.getKey() + "~\":1}").getBytes(UTF_8);
        assertThat(table.code(first(other, 1, len + 1), other, 1, len + 1)).as(e.getKey() + "~").isZero();
      }
      byte[] empty = "\"\":1}".getBytes(UTF_8);
      assertThat(table.code(0L, empty, 1, 0)).isZero();
    }
  }

  private static String key(int length, int variant) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < length; i++) {
      s.append(ALPHABET.charAt((i * 7 + (i == length - 1 ? variant * 13 : 0)) % ALPHABET.length()));
    }
    return s.toString();
  }

  /** The first {@code min(len, 8)} bytes at {@code off}, little-endian, zero above them. */
  private static long first(byte[] buf, int off, int len) {
    long word = 0;
    for (int k = Math.min(len, 8) - 1; k >= 0; k--) {
      word = word << 8 | (buf[off + k] & 0xFF);
    }
    return word;
  }
}
