package org.fhirwall.inspect;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An immutable map from strings to small int codes, for the walk's hot lookups: JSON member names
 * and resource type names read straight from the body's UTF-8 bytes (by
 * {@link #code(byte[], int, int)} and {@link #find(byte[], int, int)}, without allocating), or from
 * a String when the bytes hold escapes. A key is compared as its length and its first sixteen
 * bytes read as two longs (the rest, rare, byte by byte), and hashed from its length and first
 * eight bytes: no pass over the name's bytes one by one. Open addressing on a power-of-two table
 * at most a quarter full. Keys are printable ASCII (their bytes are their chars). A name of at most
 * sixteen bytes whose words the caller has read already ({@link #code(long, long, byte[], int, int)}:
 * the walk's member names) is looked up in a second table, without collisions, where one slot tells.
 * Thread-safe.
 */
final class NameTable {
  private final String[] keys;
  private final byte[][] keyBytes;
  private final int[] lengths;
  private final long[] firstWords;
  private final long[] secondWords;
  private final int[] codes;
  private final int shift;
  private final int mask;
  /**
   * The keys of at most sixteen bytes, by their bytes as two little-endian longs (zero above them:
   * a key's two words are the key, for no key holds a zero byte), in a table without collisions: slot
   * {@code ((first + second * SECOND) * shortMultiplier) >>> shortShift} holds the only key that can be
   * there. {@code shortWords} null when no such table was found.
   */
  private final long @Nullable [] shortWords;
  private final long[] shortSeconds;
  private final int[] shortCodes;
  private final long shortMultiplier;
  private final int shortShift;
  /** Bit {@code b & 63} of {@code firsts[len]}: some key of that length starts with byte {@code b}. */
  private final long[] firsts = new long[64];
  /** Bit {@code b & 63} of {@code lasts[len]}: some key of that length ends with byte {@code b}. */
  private final long[] lasts = new long[64];

  /** {@code entries}' codes must not be 0: 0 is the answer for an absent key. */
  NameTable(Map<String, Integer> entries) {
    int bits = 4;
    while ((1 << bits) < entries.size() * 4) {
      bits++;
    }
    int size = 1 << bits;
    keys = new String[size];
    keyBytes = new byte[size][];
    lengths = new int[size];
    firstWords = new long[size];
    secondWords = new long[size];
    codes = new int[size];
    shift = 64 - bits;
    mask = size - 1;
    for (Map.Entry<String, Integer> e : entries.entrySet()) {
      String key = e.getKey();
      if (e.getValue() == 0) {
        throw new IllegalArgumentException("code of '" + key + "': 0 (expected: not 0)");
      }
      if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
        throw new IllegalArgumentException("key '" + key + "' (expected: printable ASCII)");
      }
      byte[] bytes = key.getBytes(StandardCharsets.US_ASCII);
      long first = word(bytes, 0, Math.min(bytes.length, 8));
      int i = slot(first, bytes.length);
      while (codes[i] != 0) {
        i = (i + 1) & mask;
      }
      keys[i] = key;
      keyBytes[i] = bytes;
      lengths[i] = bytes.length;
      firstWords[i] = first;
      secondWords[i] = bytes.length > 8 ? word(bytes, 8, Math.min(bytes.length - 8, 8)) : 0;
      codes[i] = e.getValue();
      if (bytes.length > 0 && bytes.length < 64) {
        firsts[bytes.length] |= 1L << bytes[0];
        lasts[bytes.length] |= 1L << bytes[bytes.length - 1];
      }
    }
    ShortKeys small = ShortKeys.of(entries); // after the keys were checked (printable ASCII: a word is never 0)
    shortWords = small == null ? null : small.words();
    shortSeconds = small == null ? new long[0] : small.seconds();
    shortCodes = small == null ? new int[0] : small.codes();
    shortMultiplier = small == null ? 0 : small.multiplier();
    shortShift = small == null ? 0 : small.shift();
  }

  /** The longest key the table without collisions holds: two words. */
  static final int SHORT = 16;
  /** Mixes a short key's second word into its first before the slot's multiply. */
  private static final long SECOND = 0xC2B2AE3D27D4EB4FL;

  /** A table of the short keys without collisions, tried with a few multipliers and sizes. */
  private record ShortKeys(long[] words, long[] seconds, int[] codes, long multiplier, int shift) {
    static @Nullable ShortKeys of(Map<String, Integer> entries) {
      // Fixed multipliers (odd, from a fixed seed): the same table for the same keys, run after run.
      java.util.SplittableRandom random = new java.util.SplittableRandom(0x5EEDL);
      long[] multipliers = new long[16];
      multipliers[0] = 0x9E3779B97F4A7C15L;
      for (int m = 1; m < multipliers.length; m++) {
        multipliers[m] = random.nextLong() | 1L;
      }
      for (int bits = 6; bits <= 12; bits++) {
        for (long m : multipliers) {
          ShortKeys table = new ShortKeys(new long[1 << bits], new long[1 << bits], new int[1 << bits], m, 64 - bits);
          if (table.fill(entries)) {
            return table;
          }
        }
      }
      return null;
    }

    private boolean fill(Map<String, Integer> entries) {
      for (Map.Entry<String, Integer> e : entries.entrySet()) {
        byte[] bytes = e.getKey().getBytes(StandardCharsets.US_ASCII);
        if (bytes.length > SHORT) {
          continue;
        }
        long first = word(bytes, 0, Math.min(bytes.length, 8));
        long second = bytes.length > 8 ? word(bytes, 8, bytes.length - 8) : 0;
        int slot = slot(first, second);
        if (words[slot] != 0) {
          return false;
        }
        words[slot] = first;
        seconds[slot] = second;
        codes[slot] = e.getValue();
      }
      return true;
    }

    int slot(long first, long second) {
      return (int) (((first + second * SECOND) * multiplier) >>> shift);
    }
  }

  /** The code of {@code name}, 0 when absent. */
  int code(@Nullable String name) {
    if (name == null) {
      return 0;
    }
    byte[] bytes = ascii(name);
    return bytes == null ? 0 : code(bytes, 0, bytes.length);
  }

  /** The code of the key spelled by the bytes {@code buf[off..off+len)}; 0 when absent. */
  int code(byte[] buf, int off, int len) {
    if (len > 0 && len < 64 && ((firsts[len] & (1L << buf[off])) == 0 || (lasts[len] & (1L << buf[off + len - 1])) == 0)) {
      return 0; // no key of this length starts or ends so: most names the walk ignores end here
    }
    int i = index(buf, off, len);
    return i < 0 ? 0 : codes[i];
  }

  /**
   * The code of the key spelled by the bytes {@code buf[off..off+len)}, none of them 0, whose first
   * {@code min(len, 8)} bytes the caller has read already as {@code first} and, when it is longer than
   * eight bytes, its next {@code min(len - 8, 8)} as {@code second} (little-endian longs, zero above
   * them; {@code second} is 0 for a name of at most eight bytes and is not read for one longer than
   * {@link #SHORT}); 0 when absent.
   */
  int code(long first, long second, byte[] buf, int off, int len) {
    long[] words = shortWords;
    if (len <= SHORT && words != null) {
      // A short name is its two words: one slot to look at. (An empty name's words, 0 and 0, are no key's.)
      int slot = (int) (((first + second * SECOND) * shortMultiplier) >>> shortShift);
      return words[slot] == first && shortSeconds[slot] == second ? shortCodes[slot] : 0; // an empty slot's words and code are 0
    }
    if (len > 0 && len < 64 && ((firsts[len] & (1L << first)) == 0 || (lasts[len] & (1L << buf[off + len - 1])) == 0)) {
      return 0; // as code(buf, off, len): the first byte is the word's lowest (a shift reads its low six bits)
    }
    int i = index(first, buf, off, len);
    return i < 0 ? 0 : codes[i];
  }

  /** The key spelled by the bytes {@code buf[off..off+len)}, or null when there is none. */
  @Nullable String find(byte[] buf, int off, int len) {
    int i = index(buf, off, len);
    return i < 0 ? null : keys[i];
  }

  /** The table's own String equal to {@code name}, or null when there is none. */
  @Nullable String key(String name) {
    byte[] bytes = ascii(name);
    return bytes == null ? null : find(bytes, 0, bytes.length);
  }

  private int index(byte[] buf, int off, int len) {
    return index(word(buf, off, len < 8 ? len : 8), buf, off, len);
  }

  private int index(long first, byte[] buf, int off, int len) {
    int i = slot(first, len);
    while (codes[i] != 0) {
      if (lengths[i] == len && firstWords[i] == first && (len <= 8 || restEquals(i, buf, off, len))) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  private boolean restEquals(int i, byte[] buf, int off, int len) {
    if (secondWords[i] != word(buf, off + 8, len < 16 ? len - 8 : 8)) {
      return false;
    }
    return len <= 16 || Arrays.equals(keyBytes[i], 16, len, buf, off + 16, off + len);
  }

  private int slot(long first, int len) {
    return (int) (((first + len) * 0x9E3779B97F4A7C15L) >>> shift) & mask;
  }

  /** The {@code len} (0..8) bytes at {@code off} as a little-endian long, zero above them. */
  private static long word(byte[] buf, int off, int len) {
    if (off + 8 <= buf.length) {
      long w = (long) JsonTokens.LONGS.get(buf, off);
      return len == 8 ? w : w & ~(-1L << (len << 3));
    }
    long w = 0;
    for (int k = len - 1; k >= 0; k--) {
      w = (w << 8) | (buf[off + k] & 0xFF);
    }
    return w;
  }

  /** {@code s} as bytes when it is ASCII (the only text a key can equal), else null. */
  private static byte @Nullable [] ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return null;
      }
    }
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
