package org.fhirwall.inspect;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * A strict JSON tokenizer over UTF-8 bytes, for {@link JsonWalk}: no copy of the input, no object
 * per token; strings and names are scanned eight bytes at a time (a word is tested at once for a
 * quote, a backslash, a control character or a byte above 0x7F; only those bytes are looked at one
 * by one). Not thread-safe: one body at a time ({@link #reset} starts the next).
 *
 * <p>It accepts exactly what Jackson's {@code UTF8StreamJsonParser} accepts with its default
 * features and constraints (the parser the inspector was first written on; the equivalence test
 * holds the two together): RFC 8259 JSON; a UTF-8 byte order mark at the very start; whitespace of
 * space, tab, CR and LF only; no comments, trailing commas, single quotes, unquoted names, leading
 * zeros, {@code NaN} or leading {@code +}; no unescaped control character in a string; escapes
 * {@code \" \\ \/ \b \f \n \r \t \\uXXXX} only; UTF-8 sequences checked as Jackson checks them (a
 * lead byte {@code C0..F7} followed by as many continuation bytes as it announces); a number of at
 * most 1,000 digits, a member name of at most 50,000 bytes. At the top level only objects are
 * accepted (one, or any number for NDJSON): anything else is not a FHIR body.
 */
final class JsonTokens {
  static final int END = 0;
  static final int START_OBJECT = 1;
  static final int END_OBJECT = 2;
  static final int START_ARRAY = 3;
  static final int END_ARRAY = 4;
  static final int STRING = 5;
  static final int NUMBER = 6;
  static final int TRUE = 7;
  static final int FALSE = 8;
  static final int NULL = 9;

  /** Flag of a string or name: it holds an escape (its raw bytes are not its text). */
  static final int ESCAPED = 1;
  /** Flag of a string or name: it holds a byte above 0x7F. */
  static final int NON_ASCII = 2;

  /** Jackson's limits (StreamReadConstraints defaults). */
  private static final int MAX_NUMBER_LENGTH = 1000;
  private static final int MAX_NAME_LENGTH = 50_000;

  /** Eight bytes of the body as one little-endian long (the first byte lowest). */
  static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long QUOTES = 0x2222222222222222L;
  private static final long BACKSLASHES = 0x5C5C5C5C5C5C5C5CL;
  private static final long SPACES = 0x2020202020202020L;

  /** The member names coded in {@link #nameCode}, or null for none (then no value is quiet either). */
  private final @Nullable NameTable names;
  private final int loudCodes;
  private final int quietBelow;
  private byte @Nullable [] b;
  private int n;
  private boolean multipleRoots;
  private int pos;
  private int roots;
  /** Open containers: true for an object. */
  private boolean[] objects = new boolean[32];
  private int depth;
  /** {@code objects[depth - 1]} while a container is open: read for every token, written only when one opens or closes. */
  private boolean innermostObject;
  /** Whether the next thing in the open container is a separator (a value was just read). */
  private boolean afterValue;
  /** The flags ({@link #ESCAPED}, {@link #NON_ASCII}) of what {@link #stringEnd} scanned last. */
  private int scannedFlags;

  /** The current token: for a string, {@code start} at its opening quote and {@code end} past its closing one. */
  int start;
  int end;
  int flags;
  /** The member name of the current value, when it stands in an object: its bytes between the quotes. */
  int nameStart = -1;
  int nameEnd = -1;
  int nameFlags;
  /**
   * The code of a plain name (no escape, ASCII) by the {@code names} given at construction, 0 when
   * it has none (or no names were given); -1 for a name with an escape or a byte above 0x7F.
   */
  int nameCode;

  /** A tokenizer of {@code json} that returns every token. */
  JsonTokens(byte[] json, boolean multipleRoots) {
    this.names = null;
    this.loudCodes = 0;
    this.quietBelow = 0;
    reset(json, multipleRoots);
  }

  /**
   * A tokenizer for {@link #reset} to give a body, that codes every member name by {@code names}
   * ({@link #nameCode}) and does not return the quiet values: a number, {@code true}, {@code false},
   * {@code null}, or a string of fewer than {@code quietBelow} raw bytes, that stands in an array
   * or under a plain name (no escape, ASCII) whose code has none of the bits {@code loudCodes}.
   * They are read and checked as strictly as any other token; only the reader is spared them.
   */
  JsonTokens(NameTable names, int loudCodes, int quietBelow) {
    this.names = names;
    this.loudCodes = loudCodes;
    this.quietBelow = quietBelow;
    reset(new byte[0], false);
  }

  /** Lets go of the body (a tokenizer kept for the next one must not keep it reachable). */
  void release() {
    b = null; // null: G1's write barrier filters it out at once (another array costs the full barrier)
    n = 0;
  }


  /** Starts over on {@code json}, as a new tokenizer of it would (whatever state the last body left). */
  void reset(byte[] json, boolean multipleRoots) {
    this.b = json;
    this.n = json.length;
    this.multipleRoots = multipleRoots;
    pos = n >= 3 && (json[0] & 0xFF) == 0xEF && (json[1] & 0xFF) == 0xBB && (json[2] & 0xFF) == 0xBF ? 3 : 0;
    roots = 0;
    depth = 0;
    innermostObject = false;
    afterValue = false;
    scannedFlags = 0;
    start = 0;
    end = 0;
    flags = 0;
    nameStart = -1;
    nameEnd = -1;
    nameFlags = 0;
    nameCode = 0;
  }

  /** Whether the current value stands in an object (so that it has a member name). */
  boolean inObject() {
    return depth > 0 && objects[depth - 1];
  }

  /**
   * The next token the reader asked for: every token but the quiet values (see {@link #JsonTokens(NameTable, int, int)}),
   * which are read (and checked) all the same.
   */
  int next() throws UnreadableException {
    byte[] bytes = b;
    int n = bytes.length; // the array's own length (n's value): lets the compiler drop its own bounds checks
    while (true) {
      int i = skipWhitespace(bytes, pos);
      if (depth == 0) {
        if (i >= n) {
          pos = i;
          return END;
        }
        if (bytes[i] != '{') {
          throw new UnreadableException(isValueStart(bytes[i])
              ? "JSON body is not a FHIR resource (top level is not an object)" : malformed(i));
        }
        if (++roots > 1 && !multipleRoots) {
          throw new UnreadableException("JSON body has content after its resource");
        }
        return open(i, true);
      }
      if (i >= n) {
        throw truncated();
      }
      boolean object = innermostObject;
      int c = bytes[i];
      if (afterValue) {
        if (c == ',') {
          i = skipWhitespace(bytes, i + 1);
          if (i >= n) {
            throw truncated();
          }
          c = bytes[i];
        } else {
          return close(i, c, object);
        }
      } else if (c == (object ? '}' : ']')) {
        return close(i, c, object);
      }
      if (object) {
        if (c != '"') {
          throw new UnreadableException(malformed(i));
        }
        i = name(i);
        i = skipWhitespace(bytes, i);
        if (i >= n) {
          throw truncated();
        }
        if (bytes[i] != ':') {
          throw new UnreadableException(malformed(i));
        }
        i = skipWhitespace(bytes, i + 1);
        if (i >= n) {
          throw truncated();
        }
        c = bytes[i];
      }
      int token = value(i, c);
      if (token < STRING || !quiet(token, object)) {
        return token;
      }
    }
  }

  /** Whether the value just read is one the reader has nothing to do with (then {@link #next} reads on). */
  private boolean quiet(int token, boolean object) {
    return names != null && (token != STRING || end - start - 2 < quietBelow) && (!object || (nameCode & loudCodes) == 0);
  }

  private int value(int i, int c) throws UnreadableException {
    switch (c) {
      case '{':
        return open(i, true);
      case '[':
        return open(i, false);
      case '"':
        start = i;
        end = string(i);
        pos = end;
        afterValue = true;
        return STRING;
      case 't':
        return literal(i, "true", TRUE);
      case 'f':
        return literal(i, "false", FALSE);
      case 'n':
        return literal(i, "null", NULL);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          start = i;
          end = number(i);
          pos = end;
          afterValue = true;
          return NUMBER;
        }
        throw new UnreadableException(malformed(i));
    }
  }

  private int open(int i, boolean object) {
    if (depth == objects.length) {
      objects = java.util.Arrays.copyOf(objects, depth * 2);
    }
    objects[depth++] = object;
    innermostObject = object;
    start = i;
    pos = i + 1;
    afterValue = false;
    return object ? START_OBJECT : START_ARRAY;
  }

  private int close(int i, int c, boolean object) throws UnreadableException {
    if (c != (object ? '}' : ']')) {
      throw new UnreadableException(malformed(i));
    }
    depth--;
    innermostObject = depth > 0 && objects[depth - 1];
    start = i;
    pos = i + 1;
    afterValue = true;
    return object ? END_OBJECT : END_ARRAY;
  }

  private int literal(int i, String word, int token) throws UnreadableException {
    int len = word.length();
    for (int k = 0; k < len; k++) {
      if (i + k >= n) {
        throw truncated();
      }
      if (b[i + k] != word.charAt(k)) {
        throw new UnreadableException(malformed(i + k));
      }
    }
    start = i;
    end = i + len;
    pos = end;
    afterValue = true;
    return token;
  }

  /** Scans a number from {@code i}; returns the offset just past it. */
  private int number(int i) throws UnreadableException {
    if (b[i] == '-') {
      i++;
    }
    if (i >= n) {
      throw truncated();
    }
    int from = i;
    if (b[i] == '0') {
      i++;
      if (i < n && isDigit(b[i])) {
        throw new UnreadableException(malformed(i)); // leading zero
      }
    } else if (isDigit(b[i])) {
      while (i < n && isDigit(b[i])) {
        i++;
      }
    } else {
      throw new UnreadableException(malformed(i));
    }
    int intLength = i - from;
    int fractionLength = 0;
    int exponentLength = 0;
    boolean floating = false;
    if (i < n && b[i] == '.') {
      floating = true;
      int f = ++i;
      while (i < n && isDigit(b[i])) {
        i++;
      }
      fractionLength = i - f;
      if (fractionLength == 0) {
        throw i >= n ? truncated() : new UnreadableException(malformed(i));
      }
    }
    if (i < n && (b[i] == 'e' || b[i] == 'E')) {
      floating = true;
      i++;
      if (i < n && (b[i] == '+' || b[i] == '-')) {
        i++;
      }
      int e = i;
      while (i < n && isDigit(b[i])) {
        i++;
      }
      exponentLength = i - e;
      if (exponentLength == 0) {
        throw i >= n ? truncated() : new UnreadableException(malformed(i));
      }
    }
    if ((floating ? intLength + fractionLength + exponentLength : intLength) > MAX_NUMBER_LENGTH) {
      throw new UnreadableException("JSON body exceeds a parser limit");
    }
    return i;
  }

  /**
   * Scans a member name whose opening quote is at {@code i}; returns the offset past its closing
   * quote. A plain name of at most sixteen bytes (most of a FHIR body's: {@code resourceType},
   * {@code identifier} and {@code reference} among them) ends within the two words read to find its
   * end, and is coded from them ({@link NameTable#code(long, long, byte[], int, int)}); any other
   * name is read on by {@link #otherName}. Small enough to be inlined into {@link #next}.
   */
  private int name(int i) throws UnreadableException {
    byte[] bytes = b;
    int from = i + 1;
    if (from > bytes.length - 16) {
      return otherName(from, from); // near the end of the body
    }
    long word = (long) LONGS.get(bytes, from);
    long stops = stops(word);
    if (stops != 0) {
      int q = from + (Long.numberOfTrailingZeros(stops) >>> 3);
      if (bytes[q] == '"') {
        return plainName(from, q, word & ~(-1L << ((q - from) << 3)), 0L); // the name's bytes only, zero above
      }
      return otherName(from, q);
    }
    long next = (long) LONGS.get(bytes, from + 8);
    long nextStops = stops(next);
    int q = from + 8 + (Long.numberOfTrailingZeros(nextStops) >>> 3);
    if (nextStops != 0 && bytes[q] == '"') {
      return plainName(from, q, word, next & ~(-1L << ((q - from - 8) << 3)));
    }
    return otherName(from, q);
  }

  /** A name of plain ASCII bytes {@code from..k} (at most sixteen), whose words are {@code first} and {@code second}. */
  private int plainName(int from, int k, long first, long second) {
    nameStart = from;
    nameEnd = k;
    nameFlags = 0;
    NameTable table = names;
    nameCode = table == null ? 0 : table.code(first, second, b, from, k - from);
    return k + 1;
  }

  /**
   * A name longer than sixteen bytes, or with an escape or a byte above 0x7F, or near the end of the
   * body, whose bytes {@code from..plainTo} are known to be plain: read on from {@code plainTo}.
   */
  private int otherName(int from, int plainTo) throws UnreadableException {
    int k = stringEnd(plainTo);
    int f = scannedFlags;
    nameStart = from;
    nameEnd = k;
    nameFlags = f;
    NameTable table = names;
    nameCode = table == null ? 0 : f != 0 ? -1 : table.code(b, from, k - from);
    // Escapes only shorten a name: decode it only when its raw form is over the limit.
    if (k - from > MAX_NAME_LENGTH
        && ((f & ESCAPED) == 0 || JsonText.decode(b, from, k).getBytes(StandardCharsets.UTF_8).length > MAX_NAME_LENGTH)) {
      throw new UnreadableException("JSON body exceeds a parser limit");
    }
    return k + 1;
  }

  /**
   * Scans a string value whose opening quote is at {@code i}; returns the offset past its closing
   * quote. A string that ends within its first word (most of a FHIR body's: codes, ids, dates) is
   * read here, without a call to {@link #stringEnd}.
   */
  private int string(int i) throws UnreadableException {
    byte[] bytes = b;
    int from = i + 1;
    if (from <= bytes.length - 8) {
      long stops = stops((long) LONGS.get(bytes, from));
      int q = from + (Long.numberOfTrailingZeros(stops) >>> 3);
      if (stops == 0) {
        int k = stringEnd(from + 8);
        flags = scannedFlags;
        return k + 1;
      }
      if (bytes[q] == '"') {
        flags = 0;
        return q + 1;
      }
    }
    int k = stringEnd(from);
    flags = scannedFlags;
    return k + 1;
  }

  /**
   * Scans string content from {@code k} (just past its opening quote), checking each escape and
   * multi-byte sequence; returns the offset of its closing quote and leaves its flags in
   * {@link #scannedFlags}. Eight plain bytes at a time while eight remain, then byte by byte.
   */
  private int stringEnd(int k) throws UnreadableException {
    byte[] bytes = b;
    int limit = bytes.length;
    int f = 0;
    while (true) {
      if (k <= limit - 8) {
        long stops = stops((long) LONGS.get(bytes, k));
        if (stops == 0) {
          k += 8;
          continue;
        }
        k += Long.numberOfTrailingZeros(stops) >>> 3;
        // The lowest mark is exact: a quote (mostly), a backslash, a control or a non-ASCII byte.
        int c = bytes[k];
        if (c == '"') {
          scannedFlags = f;
          return k;
        }
        k = special(k, c);
        f |= c == '\\' ? ESCAPED : NON_ASCII;
        continue;
      }
      if (k >= limit) {
        throw truncated();
      }
      int c = bytes[k];
      if (c >= 0x20 && c != '"' && c != '\\') {
        k++;
        continue;
      }
      if (c == '"') {
        scannedFlags = f;
        return k;
      }
      k = special(k, c);
      f |= c == '\\' ? ESCAPED : NON_ASCII;
    }
  }

  /**
   * The bytes of {@code word} that end a run of plain string content (a quote, a backslash, a
   * control character, a byte above 0x7F), each marked by its high bit. Only the lowest mark is
   * exact (a borrow may mark bytes above it), which is the only one read; 0 when the word has none.
   * Below the lowest stop byte nothing borrows and every byte is a plain ASCII byte, which none of
   * the four terms marks; the stop byte itself is marked by its own term (a quote or backslash
   * byte minus one, a control byte minus a space, a byte above 0x7F as it is). So the usual
   * {@code & ~x} of a zero-byte test is not needed: a byte above 0x7F, which it would leave out of
   * the quote and backslash terms, is marked anyway.
   */
  static long stops(long word) {
    long quote = word ^ QUOTES;
    long backslash = word ^ BACKSLASHES;
    return ((quote - ONES) | (backslash - ONES) | (word - SPACES) | word) & HIGHS;
  }

  /** An escape, a multi-byte UTF-8 sequence or a control character at {@code k}; returns the offset past it. */
  private int special(int k, int c) throws UnreadableException {
    if (c == '\\') {
      if (k + 1 >= n) {
        throw truncated();
      }
      switch (b[k + 1]) {
        case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
          return k + 2;
        case 'u':
          for (int j = k + 2; j < k + 6; j++) {
            if (j >= n) {
              throw truncated();
            }
            if (JsonText.hex(b[j]) < 0) {
              throw new UnreadableException(malformed(j));
            }
          }
          return k + 6;
        default:
          throw new UnreadableException(malformed(k + 1));
      }
    }
    if (c >= 0) {
      throw new UnreadableException(malformed(k)); // a control character
    }
    int u = c & 0xFF;
    int more;
    if ((u & 0xE0) == 0xC0) {
      more = 1;
    } else if ((u & 0xF0) == 0xE0) {
      more = 2;
    } else if ((u & 0xF8) == 0xF0) {
      more = 3;
    } else {
      throw new UnreadableException(malformed(k));
    }
    for (int j = k + 1; j <= k + more; j++) {
      if (j >= n) {
        throw truncated();
      }
      if ((b[j] & 0xC0) != 0x80) {
        throw new UnreadableException(malformed(j));
      }
    }
    return k + 1 + more;
  }

  private static int skipWhitespace(byte[] bytes, int i) {
    int n = bytes.length;
    while (i < n) {
      byte c = bytes[i];
      // Every whitespace byte is at most a space: one comparison settles most bytes.
      if (c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t')) {
        return i;
      }
      i++;
    }
    return i;
  }

  // ---- text of the current string or name

  /** The text of the current string token. */
  String text() {
    return text(start + 1, end - 1, flags);
  }

  /** The current member name. */
  String name() {
    return text(nameStart, nameEnd, nameFlags);
  }

  /** The text of the (already validated) string content {@code from..to}. */
  String text(int from, int to, int f) {
    return JsonText.text(b, from, to, f);
  }

  // ---- helpers

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isValueStart(byte c) {
    return c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
  }

  private static String malformed(int at) {
    return "malformed JSON near byte " + at;
  }

  private static UnreadableException truncated() {
    return new UnreadableException("JSON body is truncated");
  }
}
