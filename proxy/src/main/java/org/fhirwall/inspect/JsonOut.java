package org.fhirwall.inspect;

import java.util.Arrays;

/**
 * The JSON bytes {@link XmlToJson} writes: a growing UTF-8 buffer that refuses to pass a size.
 * Commas are placed by looking at the last byte written (none after {@code {}, {@code [} or a
 * key's {@code :}), so callers write members and array items without tracking firsts; a span can
 * be cut out again ({@link #cut}) for the parts of a repeating primitive that JSON puts in a
 * second array. Not thread-safe: one per conversion.
 */
final class JsonOut {
  /** Room that may be taken beyond the limit before the exact check in {@link #toByteArray}. */
  private static final int SLACK = 8;
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final long max;
  private byte[] buf;
  private int pos;

  JsonOut(int sizeHint, long max) {
    this.max = max;
    this.buf = new byte[(int) Math.min(max + SLACK, Math.max(256, sizeHint))];
  }

  int position() {
    return pos;
  }

  /** Drops everything written from {@code mark} on. */
  void truncate(int mark) {
    pos = mark;
  }

  /** The bytes written from {@code mark} on, removed from the output. */
  byte[] cut(int mark) {
    byte[] span = Arrays.copyOfRange(buf, mark, pos);
    pos = mark;
    return span;
  }

  /** A comma, unless the last byte opens an object or array (or nothing was written yet). */
  void comma() throws UnreadableException {
    if (pos > 0) {
      byte last = buf[pos - 1];
      if (last != '{' && last != '[' && last != ':') {
        ensure(1);
        buf[pos++] = ',';
      }
    }
  }

  void write(char c) throws UnreadableException {
    ensure(1);
    buf[pos++] = (byte) c;
  }

  void write(byte[] bytes) throws UnreadableException {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }

  /** ASCII text (a number, a literal) as it is. */
  void ascii(String s) throws UnreadableException {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      buf[pos++] = (byte) s.charAt(i);
    }
  }

  /** {@code s} as a JSON string, quoted and escaped. */
  void string(CharSequence s) throws UnreadableException {
    int n = s.length();
    ensure(n + 2);
    buf[pos++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        if (pos == buf.length) {
          ensure(1);
        }
        buf[pos++] = (byte) c;
      } else {
        i = special(s, i, c);
      }
    }
    ensure(1);
    buf[pos++] = '"';
  }

  private int special(CharSequence s, int i, char c) throws UnreadableException {
    ensure(6);
    if (c == '"' || c == '\\') {
      buf[pos++] = '\\';
      buf[pos++] = (byte) c;
    } else if (c < 0x20) {
      buf[pos++] = '\\';
      switch (c) {
        case '\n' -> buf[pos++] = 'n';
        case '\r' -> buf[pos++] = 'r';
        case '\t' -> buf[pos++] = 't';
        default -> {
          buf[pos++] = 'u';
          buf[pos++] = '0';
          buf[pos++] = '0';
          buf[pos++] = HEX[c >> 4];
          buf[pos++] = HEX[c & 0xF];
        }
      }
    } else if (c < 0x800) {
      buf[pos++] = (byte) (0xC0 | (c >> 6));
      buf[pos++] = (byte) (0x80 | (c & 0x3F));
    } else if (Character.isSurrogate(c)) {
      if (!Character.isHighSurrogate(c) || i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
        throw new UnreadableException("XML text with an unpaired surrogate");
      }
      int cp = Character.toCodePoint(c, s.charAt(i + 1));
      buf[pos++] = (byte) (0xF0 | (cp >> 18));
      buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
      buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
      buf[pos++] = (byte) (0x80 | (cp & 0x3F));
      return i + 1;
    } else {
      buf[pos++] = (byte) (0xE0 | (c >> 12));
      buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
      buf[pos++] = (byte) (0x80 | (c & 0x3F));
    }
    return i;
  }

  /** The JSON written; unreadable when it is longer than the limit. */
  byte[] toByteArray() throws UnreadableException {
    if (pos > max) {
      throw tooBig();
    }
    return Arrays.copyOf(buf, pos);
  }

  private void ensure(int n) throws UnreadableException {
    if (buf.length - pos < n) {
      grow(n);
    }
  }

  private void grow(int n) throws UnreadableException {
    long need = (long) pos + n;
    if (need > max + SLACK) {
      throw tooBig();
    }
    buf = Arrays.copyOf(buf, (int) Math.min(max + SLACK, Math.max(need, 2L * buf.length)));
  }

  private UnreadableException tooBig() {
    return new UnreadableException("XML body converts to more than " + max + " bytes of JSON");
  }
}
