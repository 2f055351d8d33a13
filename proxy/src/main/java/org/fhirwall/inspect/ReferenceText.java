package org.fhirwall.inspect;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Classifies the text of a FHIR reference (or of a full URL or location) without allocating: is
 * it a patient, another typed resource, a contained or {@code urn:} reference, or untyped? Reads
 * the text's UTF-8 bytes in place (every byte it looks for is ASCII, which never occurs inside a
 * multi-byte sequence). One instance per walk; not thread-safe.
 *
 * <p>"When in doubt, count": a {@code Patient/{id}} pair of path segments anywhere in the text
 * names a patient (relative, absolute on any base, followed by {@code _history} or not; the type
 * segment is matched without regard to case), and a {@code Patient} segment followed by a query
 * or by an id that is not a valid FHIR id is a patient that cannot be resolved.
 */
final class ReferenceText {
  enum Kind {
    /** Names {@code Patient/{id}}; the id is at {@link #idStart}..{@link #idEnd}. */
    PATIENT,
    /** Names a patient that cannot be resolved (conditional reference, malformed id). */
    PATIENT_UNRESOLVED,
    /** Names a resource of another known type. */
    OTHER_TYPE,
    /** {@code #id}: a contained resource (or {@code #} alone: the container). */
    CONTAINED,
    /** {@code urn:...}: resolved against the Bundle entries' full URLs. */
    URN,
    /** Anything else: no type to be read from it. */
    UNTYPED
  }

  private static final byte[] PATIENT = {'p', 'a', 't', 'i', 'e', 'n', 't'};
  /** {@code Patient/} as a little-endian word. */
  static final long PATIENT_SLASH = (long) JsonTokens.LONGS.get("Patient/".getBytes(StandardCharsets.US_ASCII), 0);
  private static final int PATIENT_SLASH_LENGTH = 8;
  /** FHIR id characters as bit sets: chars 0..63 ({@code -.0-9}) and 64..127 ({@code A-Za-z}). */
  private static final long ID_LOW = bits(0, "-.0123456789");
  private static final long ID_HIGH = bits(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

  private static long bits(int from, String chars) {
    long set = 0;
    for (int i = 0; i < chars.length(); i++) {
      set |= 1L << (chars.charAt(i) - from);
    }
    return set;
  }

  private final NameTable knownTypes;
  Kind kind = Kind.UNTYPED;
  int idStart;
  int idEnd;

  ReferenceText(Set<String> knownTypes) {
    this(typeTable(knownTypes));
  }

  /** With the known types as a {@link NameTable} (any non-zero code). */
  ReferenceText(NameTable knownTypes) {
    this.knownTypes = knownTypes;
  }

  private static NameTable typeTable(Set<String> types) {
    Map<String, Integer> codes = new HashMap<>();
    for (String type : types) {
      codes.put(type, 1);
    }
    return new NameTable(codes);
  }

  Kind classify(byte[] buf, int off, int len) {
    return classify(buf, off, len, true);
  }

  /**
   * As {@link #classify(byte[], int, int)}; when {@code typed} is false, a reference to another
   * type is not told apart from an untyped one ({@link Kind#UNTYPED} for both), which saves a type
   * lookup where only patients matter.
   */
  Kind classify(byte[] buf, int off, int len, boolean typed) {
    int end = off + len;
    kind = Kind.UNTYPED;
    if (len == 0) {
      return kind;
    }
    if (buf[off] == '#') {
      return kind = Kind.CONTAINED;
    }
    if (len >= 4 && lower(buf[off]) == 'u' && lower(buf[off + 1]) == 'r' && lower(buf[off + 2]) == 'n' && buf[off + 3] == ':') {
      return kind = Kind.URN;
    }
    if (len > PATIENT_SLASH_LENGTH && (long) JsonTokens.LONGS.get(buf, off) == PATIENT_SLASH && validId(buf, off + PATIENT_SLASH_LENGTH, end)) {
      // The commonest reference, Patient/{id}, in one comparison (an id holds no '/', '?' nor '#'):
      // what the segment walk below finds for it.
      idStart = off + PATIENT_SLASH_LENGTH;
      idEnd = end;
      return kind = Kind.PATIENT;
    }
    if (!typed && !mayNamePatient(buf, off, end)) {
      // Untyped, a patient is all that can be told apart, and only a "patient" segment names one.
      return kind;
    }
    // Walk the path segments (up to the first '?' or '#'): any "Patient/{id}" pair names a patient;
    // the type of anything else is the segment before the id (before any _history).
    int segStart = off;
    int pathEnd;
    int beforeStart = -1;
    int beforeEnd = -1;
    int prevStart = -1;
    int prevEnd = -1;
    int lastStart = -1;
    int lastEnd = -1;
    boolean history = false;
    while (true) {
      int i = delimiter(buf, segStart, end);
      int s = segStart;
      int e = i;
      segStart = i + 1;
      if (e > s) {
        if (beforeStart >= 0 && isPatient(buf, beforeStart, beforeEnd) && buf[s] != '_' && buf[s] != '$') {
          if (validId(buf, s, e)) {
            idStart = s;
            idEnd = e;
            return kind = Kind.PATIENT;
          }
          return kind = Kind.PATIENT_UNRESOLVED;
        }
        beforeStart = s;
        beforeEnd = e;
        if (e - s == 8 && matches(buf, s, "_history")) {
          history = true;
        }
        if (!history) {
          prevStart = lastStart;
          prevEnd = lastEnd;
          lastStart = s;
          lastEnd = e;
        }
      }
      if (i == end || buf[i] != '/') {
        pathEnd = i;
        break;
      }
    }
    if (pathEnd < end && buf[pathEnd] == '?' && beforeStart >= 0 && isPatient(buf, beforeStart, beforeEnd)) {
      return kind = Kind.PATIENT_UNRESOLVED;
    }
    if (prevStart >= 0 && isPatient(buf, prevStart, prevEnd)) {
      return kind = Kind.PATIENT_UNRESOLVED; // Patient/$op, Patient/_search: a patient, but which?
    }
    if (typed && prevStart >= 0 && isTypeName(buf, prevStart, prevEnd)) {
      return kind = Kind.OTHER_TYPE;
    }
    return kind;
  }

  /**
   * As {@link #classify(byte[], int, int, boolean) classify(buf, off, len, false)}, for a full URL
   * (or location, request URL) that mostly starts with an upstream base: past one of
   * {@code plainBases} (see {@link #plainBases}) and its {@code /}, {@code Patient/{id}} to the end
   * is read with one word comparison and anything else is tested for {@code atient} from there, so
   * that the base's own bytes are not read again.
   */
  Kind classifyUrl(byte[] buf, int off, int len, byte[][] plainBases) {
    int end = off + len;
    for (byte[] base : plainBases) {
      int rest = off + base.length + 1;
      if (rest > end || buf[rest - 1] != '/' || !Arrays.equals(buf, off, rest - 1, base, 0, base.length)) {
        continue;
      }
      // The base's segments name no patient, set no _history and end no path: the segment walk over
      // the whole URL reads the rest as it would read it alone (after the segment walk's own start checks).
      if (end - rest > PATIENT_SLASH_LENGTH && (long) JsonTokens.LONGS.get(buf, rest) == PATIENT_SLASH
          && validId(buf, rest + PATIENT_SLASH_LENGTH, end)) {
        idStart = rest + PATIENT_SLASH_LENGTH;
        idEnd = end;
        return kind = Kind.PATIENT;
      }
      if (!mayNamePatient(buf, rest, end)) {
        return kind = Kind.UNTYPED; // "atient" cannot straddle the '/' after the base
      }
      break;
    }
    return classify(buf, off, len, false);
  }

  /**
   * The ASCII {@code bases} (null for one that is not) whose own bytes can change nothing in how
   * {@link #classify} reads a URL that starts with one of them followed by {@code /}: no
   * {@code atient} in any case (so no {@code patient} segment), no {@code _history}, no {@code ?} or
   * {@code #}, not starting with {@code urn:}. The others are left to the whole walk.
   */
  static byte[][] plainBases(byte[] @Nullable [] bases) {
    return Arrays.stream(bases)
        .filter(base -> base != null && base.length > 0 && isPlainBase(base))
        .toArray(byte[][]::new);
  }

  private static boolean isPlainBase(byte[] base) {
    String lower = new String(base, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
    return !lower.contains("atient") && !lower.contains("_history") && lower.indexOf('?') < 0 && lower.indexOf('#') < 0
        && !lower.startsWith("urn:");
  }

  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long SLASHES = 0x2F2F2F2F2F2F2F2FL;
  private static final long QUERIES = 0x3F3F3F3F3F3F3F3FL;
  private static final long HASHES = 0x2323232323232323L;

  /** The offset of the first {@code /}, {@code ?} or {@code #} in {@code buf[from..end)}, or {@code end}: eight bytes at a time. */
  private static int delimiter(byte[] buf, int from, int end) {
    int i = from;
    while (i <= end - 8) {
      long w = (long) JsonTokens.LONGS.get(buf, i);
      long slash = w ^ SLASHES;
      long query = w ^ QUERIES;
      long hash = w ^ HASHES;
      // A zero byte in any of the three: only the lowest mark is exact, which is the one read.
      long found = ((slash - ONES) & ~slash | (query - ONES) & ~query | (hash - ONES) & ~hash) & HIGHS;
      if (found != 0) {
        return i + (Long.numberOfTrailingZeros(found) >>> 3);
      }
      i += 8;
    }
    while (i < end) {
      byte c = buf[i];
      if (c == '/' || c == '?' || c == '#') {
        return i;
      }
      i++;
    }
    return end;
  }

  private static final long LOWER = 0x2020202020202020L;
  private static final long AS = 0x6161616161616161L;
  private static final long LOWS = 0x7F7F7F7F7F7F7F7FL;

  /**
   * Whether {@code buf[off..end)} holds {@code atient} in any case (which every {@code patient}
   * segment does): a necessary condition, tested eight bytes at a time for an {@code a} or
   * {@code A}, then at each one found.
   */
  private static boolean mayNamePatient(byte[] buf, int off, int end) {
    int i = off;
    while (i <= end - 8) {
      long a = ((long) JsonTokens.LONGS.get(buf, i) | LOWER) ^ AS;
      // Exactly the bytes equal to 'a' once lowered (no carry crosses bytes here).
      long found = ~(((a & LOWS) + LOWS) | a) & HIGHS;
      while (found != 0) {
        if (atient(buf, i + (Long.numberOfTrailingZeros(found) >>> 3), end)) {
          return true;
        }
        found &= found - 1;
      }
      i += 8;
    }
    for (; i < end; i++) {
      if (atient(buf, i, end)) {
        return true;
      }
    }
    return false;
  }

  private static boolean atient(byte[] buf, int at, int end) {
    return at + 6 <= end && lower(buf[at]) == 'a' && lower(buf[at + 1]) == 't' && lower(buf[at + 2]) == 'i'
        && lower(buf[at + 3]) == 'e' && lower(buf[at + 4]) == 'n' && lower(buf[at + 5]) == 't';
  }

  private boolean isTypeName(byte[] buf, int s, int e) {
    byte c = buf[s];
    if (c < 'A' || c > 'Z' || e - s > 64) {
      return false;
    }
    return knownTypes.find(buf, s, e - s) != null;
  }

  private static boolean isPatient(byte[] buf, int s, int e) {
    if (e - s != PATIENT.length) {
      return false;
    }
    for (int i = 0; i < PATIENT.length; i++) {
      if (lower(buf[s + i]) != PATIENT[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean matches(byte[] buf, int s, String text) {
    if (s + text.length() > buf.length) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      if (buf[s + i] != text.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** FHIR id characters ({@code [A-Za-z0-9\-.]}); the 64-character limit is not enforced (counting is safe). */
  static boolean validId(byte[] buf, int s, int e) {
    for (int i = s; i < e; i++) {
      int c = buf[i]; // negative for a byte above 0x7F: never an id character
      long set = c < 0 ? 0 : c < 64 ? ID_LOW : ID_HIGH;
      if ((set & (1L << c)) == 0) {
        return false;
      }
    }
    return e > s;
  }

  private static int lower(byte c) {
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
  }
}
