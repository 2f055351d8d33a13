package org.fhirwall.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Compact JSON written straight into a byte array: what {@link AuditEventJson} writes a record
 * with. Names and constant values are encoded once ({@link #name}, {@link #constant}); only the
 * record's own strings are escaped, as Jackson escapes them ({@code \" \\ \b \f \n \r \t}, other
 * control characters and each UTF-16 surrogate as a six-character {@code uXXXX} escape, everything
 * else as UTF-8), so a line is byte for byte what Jackson's generator wrote before, and a lone
 * surrogate cannot make a record unwritable.
 * Commas are placed by the writer. Not thread-safe: one per line, or one per thread reset between lines.
 */
final class JsonLine {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private byte[] buf;
  private int size;
  /** Whether the next member or element needs a comma before it. */
  private boolean comma;

  JsonLine(int capacity) {
    buf = new byte[Math.max(capacity, 64)];
  }

  /** Empties the line for the next; a buffer grown large by a long record goes back to a small one. */
  void reset() {
    size = 0;
    comma = false;
    if (buf.length > 64 * 1024) {
      buf = new byte[4096];
    }
  }

  /** {@code "name":}, encoded once. */
  static byte[] name(String name) {
    return ("\"" + name + "\":").getBytes(StandardCharsets.UTF_8);
  }

  /** A JSON value written verbatim (a constant object or string, quotes included). */
  static byte[] constant(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  JsonLine startObject() {
    separate();
    put((byte) '{');
    comma = false;
    return this;
  }

  JsonLine endObject() {
    put((byte) '}');
    comma = true;
    return this;
  }

  JsonLine startArray() {
    separate();
    put((byte) '[');
    comma = false;
    return this;
  }

  JsonLine endArray() {
    put((byte) ']');
    comma = true;
    return this;
  }

  /** A member's name (from {@link #name}); its value follows. */
  JsonLine field(byte[] encodedName) {
    separate();
    put(encodedName);
    comma = false;
    return this;
  }

  /** A constant value (from {@link #constant}). */
  JsonLine value(byte[] constant) {
    separate();
    put(constant);
    comma = true;
    return this;
  }

  JsonLine value(boolean b) {
    return value(b ? TRUE : FALSE);
  }

  JsonLine value(String s) {
    separate();
    ensure(s.length() + 2);
    buf[size++] = '"';
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        if (size == buf.length) {
          ensure(s.length() - i + 1);
        }
        buf[size++] = (byte) c;
      } else {
        escape(c);
      }
    }
    ensure(1);
    buf[size++] = '"';
    comma = true;
    return this;
  }

  /** A member with a string value. */
  JsonLine field(byte[] encodedName, String value) {
    return field(encodedName).value(value);
  }

  /** The line so far and a newline. */
  byte[] toLine() {
    byte[] out = Arrays.copyOf(buf, size + 1);
    out[size] = '\n';
    return out;
  }

  private static final byte[] TRUE = constant("true");
  private static final byte[] FALSE = constant("false");

  private void escape(char c) {
    ensure(6);
    if (c < 0x20 || c == '"' || c == '\\') {
      char short_ = switch (c) {
        case '"' -> '"';
        case '\\' -> '\\';
        case '\b' -> 'b';
        case '\f' -> 'f';
        case '\n' -> 'n';
        case '\r' -> 'r';
        case '\t' -> 't';
        default -> 0;
      };
      buf[size++] = '\\';
      if (short_ != 0) {
        buf[size++] = (byte) short_;
      } else {
        buf[size++] = 'u';
        buf[size++] = '0';
        buf[size++] = '0';
        buf[size++] = HEX[c >> 4];
        buf[size++] = HEX[c & 0xF];
      }
    } else if (c < 0x800) {
      buf[size++] = (byte) (0xC0 | (c >> 6));
      buf[size++] = (byte) (0x80 | (c & 0x3F));
    } else if (!Character.isSurrogate(c)) {
      buf[size++] = (byte) (0xE0 | (c >> 12));
      buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
      buf[size++] = (byte) (0x80 | (c & 0x3F));
    } else {
      buf[size++] = '\\';
      buf[size++] = 'u';
      buf[size++] = HEX[c >> 12];
      buf[size++] = HEX[(c >> 8) & 0xF];
      buf[size++] = HEX[(c >> 4) & 0xF];
      buf[size++] = HEX[c & 0xF];
    }
  }

  private void separate() {
    if (comma) {
      put((byte) ',');
    }
  }

  private void put(byte b) {
    ensure(1);
    buf[size++] = b;
  }

  private void put(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, size, b.length);
    size += b.length;
  }

  private void ensure(int more) {
    if (size + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
    }
  }
}
