package org.fhirwall.fhir;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Query strings and form bodies: strict decoding into {@link QueryParam}s, and fhirwall's canonical
 * encoding of them. Decoding follows what a servlet container in front of HAPI FHIR does ({@code +}
 * is a space, {@code %XX} is a UTF-8 byte, split on {@code &} and on the first {@code =}), and
 * refuses what another decoder could read differently. Stateless.
 */
final class QueryCodec {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
  private static final int MAX_NAME_LENGTH = 200;

  private QueryCodec() {}

  /**
   * Decodes {@code raw} (without the leading {@code ?}); {@code where} names the source in
   * diagnostics ("query string", "form body", "If-None-Exist header").
   */
  static List<QueryParam> parse(String raw, String where, ParserSettings settings) {
    List<QueryParam> out = new ArrayList<>();
    if (raw.isEmpty()) {
      return out;
    }
    int start = 0;
    while (true) {
      int amp = raw.indexOf('&', start);
      int end = amp < 0 ? raw.length() : amp;
      if (end == start) {
        throw Refused.invalid("Empty parameter in the " + where + " ('&&', or a leading or trailing '&')");
      }
      int eq = raw.indexOf('=', start);
      if (eq < 0 || eq >= end) {
        throw Refused.invalid("Parameter without '=' in the " + where);
      }
      String name = checkName(raw.substring(start, eq), where);
      String value = decodeValue(raw, eq + 1, end, name, where, settings);
      out.add(new QueryParam(name, value));
      if (out.size() > settings.maxParams()) {
        throw Refused.of(400, IssueType.TOO_COSTLY, "More than " + settings.maxParams() + " parameters in the " + where);
      }
      if (amp < 0) {
        return out;
      }
      start = amp + 1;
    }
  }

  private static String checkName(String name, String where) {
    if (name.isEmpty()) {
      throw Refused.invalid("Parameter with an empty name in the " + where);
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw Refused.invalid("Parameter name longer than " + MAX_NAME_LENGTH + " characters in the " + where);
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '%' || c == '+') {
        throw Refused.invalid("Percent-encoded or '+' characters in a parameter name are not accepted ("
            + where + "); send parameter names unencoded");
      }
      if (!isNameChar(c)) {
        throw Refused.invalid("Parameter name with a character outside [A-Za-z0-9_.:-] in the " + where);
      }
    }
    return name;
  }

  static boolean isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '_' || c == '-' || c == '.' || c == ':';
  }

  /** Characters a client may send unencoded in a value: RFC 3986 query characters less ';', plus '|' and '\'. */
  private static boolean isRawValueChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      return true;
    }
    return switch (c) {
      case '-', '.', '_', '~', '!', '$', '\'', '(', ')', '*', ',', '=', ':', '@', '/', '?', '|', '\\' -> true;
      default -> false;
    };
  }

  private static String decodeValue(String raw, int from, int to, String name, String where, ParserSettings settings) {
    byte[] bytes = new byte[to - from];
    int n = 0;
    for (int i = from; i < to; i++) {
      char c = raw.charAt(i);
      if (c == '+') {
        bytes[n++] = ' ';
      } else if (c == '%') {
        if (i + 2 >= to) {
          throw Refused.invalid("Truncated percent-escape in the value of '" + name + "' (" + where + ")");
        }
        int hi = hex(raw.charAt(i + 1));
        int lo = hex(raw.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          throw Refused.invalid("Invalid percent-escape in the value of '" + name + "' (" + where + ")");
        }
        bytes[n++] = (byte) ((hi << 4) | lo);
        i += 2;
      } else if (isRawValueChar(c)) {
        bytes[n++] = (byte) c;
      } else {
        throw Refused.invalid("A character in the value of '" + name + "' (" + where
            + ") must be percent-encoded (or is not allowed: ';', '#', quotes, brackets, spaces, non-ASCII)");
      }
    }
    String value = utf8(bytes, n, name, where);
    if (value.length() > settings.maxParamValueLength()) {
      throw Refused.of(400, IssueType.TOO_LONG, "The value of '" + name + "' is longer than "
          + settings.maxParamValueLength() + " characters (" + where + ")");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
        throw Refused.invalid("Control characters in the value of '" + name + "' (" + where + ")");
      }
      if (c == '%' && i + 2 < value.length()
          && hex(value.charAt(i + 1)) >= 0 && hex(value.charAt(i + 2)) >= 0) {
        throw Refused.invalid("The value of '" + name + "' is percent-encoded twice (" + where + ")");
      }
    }
    return value;
  }

  /** The value of an ASCII hex digit, or -1 (unlike {@link Character#digit}, no other scripts' digits). */
  private static int hex(char c) {
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

  private static String utf8(byte[] bytes, int length, String name, String where) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes, 0, length));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw Refused.invalid("The value of '" + name + "' is not valid UTF-8 once decoded (" + where + ")");
    }
  }

  /** Canonical encoding: {@code name=value&...}, names as they are (checked plain), values by {@link #encodeValue}. */
  static String encode(List<QueryParam> params) {
    StringBuilder sb = new StringBuilder(params.size() * 16);
    for (QueryParam p : params) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      sb.append(p.name()).append('=');
      appendValue(sb, p.value());
    }
    return sb.toString();
  }

  /**
   * RFC 3986 unreserved characters and {@code ,} stay literal (HAPI splits OR-lists on unescaped
   * commas, so a comma must reach it as a comma); every other UTF-8 byte becomes {@code %XX}. A
   * {@code \,} escape therefore travels as {@code %5C,} and survives.
   */
  static String encodeValue(String value) {
    StringBuilder sb = new StringBuilder(value.length() + 8);
    appendValue(sb, value);
    return sb.toString();
  }

  private static void appendValue(StringBuilder sb, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      int c = b & 0xFF;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~' || c == ',') {
        sb.append((char) c);
      } else {
        sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
  }
}
