package org.fhirwall.inspect;

/**
 * The text of JSON string content that {@link JsonTokens} has already validated, read from the
 * body's UTF-8 bytes: a plain copy when it is ASCII without escapes, else decoded. Stateless.
 */
final class JsonText {
  private JsonText() {}

  /** The text of the validated string content {@code b[from..to)} whose {@link JsonTokens} flags are {@code f}. */
  static String text(byte[] b, int from, int to, int f) {
    if (f == 0) {
      return ascii(b, from, to - from);
    }
    return decode(b, from, to);
  }

  /**
   * Decodes validated string content that holds escapes or multi-byte sequences, with Jackson's
   * arithmetic (which checks the shape of a sequence, not its value: an overlong form decodes to
   * the character it spells), so that every text reads as it did with Jackson.
   */
  static String decode(byte[] b, int from, int to) {
    StringBuilder s = new StringBuilder(to - from);
    int k = from;
    while (k < to) {
      int c = b[k];
      if (c == '\\') {
        byte e = b[k + 1];
        switch (e) {
          case 'b' -> s.append('\b');
          case 'f' -> s.append('\f');
          case 'n' -> s.append('\n');
          case 'r' -> s.append('\r');
          case 't' -> s.append('\t');
          case 'u' -> {
            s.append((char) ((hex(b[k + 2]) << 12) | (hex(b[k + 3]) << 8) | (hex(b[k + 4]) << 4) | hex(b[k + 5])));
            k += 6;
            continue;
          }
          default -> s.append((char) e);
        }
        k += 2;
      } else if (c >= 0) {
        s.append((char) c);
        k++;
      } else if ((c & 0xE0) == 0xC0) {
        s.append((char) (((c & 0x1F) << 6) | (b[k + 1] & 0x3F)));
        k += 2;
      } else if ((c & 0xF0) == 0xE0) {
        s.append((char) (((c & 0x0F) << 12) | ((b[k + 1] & 0x3F) << 6) | (b[k + 2] & 0x3F)));
        k += 3;
      } else {
        int u = ((((c & 0x07) << 6 | (b[k + 1] & 0x3F)) << 6 | (b[k + 2] & 0x3F)) << 6 | (b[k + 3] & 0x3F)) - 0x10000;
        s.append((char) (0xD800 | (u >> 10)));
        s.append((char) (0xDC00 | (u & 0x3FF)));
        k += 4;
      }
    }
    return s.toString();
  }

  /**
   * The String of {@code len} bytes at {@code from}, all of them ASCII (the caller knows). The
   * constructor taking a high byte is deprecated for text in other charsets; for ASCII it is exact,
   * and it is a plain copy where the Charset constructor is a call too large to inline.
   */
  @SuppressWarnings("deprecation")
  static String ascii(byte[] bytes, int from, int len) {
    return new String(bytes, 0, from, len);
  }

  static int hex(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
