package org.fhirwall.inspect;

/**
 * The numbers of FHIR XML as FHIR JSON writes them ({@link XmlToJson}): integers as HAPI FHIR reads
 * them, decimals kept as written when they follow JSON's number grammar (FHIR's for decimals).
 * Anything else is unreadable: an XML attribute never reaches a JSON body unchecked as a number.
 */
final class XmlNumbers {
  private XmlNumbers() {}

  /** An integer, positiveInt or unsignedInt as HAPI FHIR reads it (a sign and leading zeros allowed). */
  static int integer(String value) throws UnreadableException {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new UnreadableException("FHIR XML integer that is not one");
    }
  }

  /** JSON's number grammar, which is FHIR's for decimals. */
  static boolean isJsonNumber(String s) {
    int n = s.length();
    int i = 0;
    if (i < n && s.charAt(i) == '-') {
      i++;
    }
    if (i < n && s.charAt(i) == '0') {
      i++;
    } else {
      int digits = digits(s, i);
      if (digits == 0) {
        return false;
      }
      i += digits;
    }
    if (i < n && s.charAt(i) == '.') {
      int digits = digits(s, i + 1);
      if (digits == 0) {
        return false;
      }
      i += 1 + digits;
    }
    if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
      i++;
      if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
        i++;
      }
      int digits = digits(s, i);
      if (digits == 0) {
        return false;
      }
      i += digits;
    }
    return i == n;
  }

  private static int digits(String s, int from) {
    int i = from;
    while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
      i++;
    }
    return i - from;
  }
}
