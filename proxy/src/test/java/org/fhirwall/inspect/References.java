package org.fhirwall.inspect;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.hl7.fhir.r4.model.IdType;
import org.jspecify.annotations.Nullable;

/**
 * The oracle's reading of a reference string (or full URL, location, request URL), on Strings and
 * HAPI FHIR's {@link IdType}: the rule the inspector documents on {@link ReferenceText}, restated.
 * Where HAPI's {@code IdType} reads a plain {@code [base/]Type/id[/_history/v]} it decides; the
 * rest is the stated rule: {@code #...} is contained, {@code urn:...} is resolved against the
 * Bundle, any {@code Patient/{id}} pair of segments names a patient (type without regard to case),
 * and a {@code Patient} segment followed by a query, an operation, {@code _search} or an id that
 * is not a FHIR id is a patient that cannot be resolved.
 */
final class References {
  enum Kind { PATIENT, PATIENT_UNRESOLVED, OTHER_TYPE, CONTAINED, URN, UNTYPED }

  record Reading(Kind kind, @Nullable String id) {}

  private References() {}

  static Reading classify(@Nullable String text, FhirContext context) {
    if (text == null || text.isEmpty()) {
      return new Reading(Kind.UNTYPED, null);
    }
    if (text.startsWith("#")) {
      return new Reading(Kind.CONTAINED, null);
    }
    if (text.toLowerCase(Locale.ROOT).startsWith("urn:")) {
      return new Reading(Kind.URN, null);
    }
    int cut = firstOf(text, "?#");
    String path = text.substring(0, cut);
    IdType id = new IdType(path);
    if ("Patient".equals(id.getResourceType()) && id.hasIdPart() && validId(id.getIdPart()) && !path.contains("//Patient/")
        && countPatientSegments(path) == 1) {
      return new Reading(Kind.PATIENT, id.getIdPart());
    }
    List<String> segments = new ArrayList<>();
    for (String s : path.split("/")) {
      if (!s.isEmpty()) {
        segments.add(s);
      }
    }
    for (int i = 1; i < segments.size(); i++) {
      String s = segments.get(i);
      if (segments.get(i - 1).equalsIgnoreCase("Patient") && !s.startsWith("_") && !s.startsWith("$")) {
        return new Reading(validId(s) ? Kind.PATIENT : Kind.PATIENT_UNRESOLVED, validId(s) ? s : null);
      }
    }
    if (cut < text.length() && text.charAt(cut) == '?' && !segments.isEmpty()
        && segments.get(segments.size() - 1).equalsIgnoreCase("Patient")) {
      return new Reading(Kind.PATIENT_UNRESOLVED, null);
    }
    List<String> beforeHistory = segments;
    int history = segments.indexOf("_history");
    if (history >= 0) {
      beforeHistory = segments.subList(0, history);
    }
    if (beforeHistory.size() >= 2) {
      String type = beforeHistory.get(beforeHistory.size() - 2);
      if (type.equalsIgnoreCase("Patient")) {
        return new Reading(Kind.PATIENT_UNRESOLVED, null);
      }
      if (context.getResourceTypes().contains(type)) {
        return new Reading(Kind.OTHER_TYPE, null);
      }
    }
    return new Reading(Kind.UNTYPED, null);
  }

  private static int countPatientSegments(String path) {
    int n = 0;
    for (String s : path.split("/")) {
      if (s.equalsIgnoreCase("Patient")) {
        n++;
      }
    }
    return n;
  }

  private static int firstOf(String text, String chars) {
    for (int i = 0; i < text.length(); i++) {
      if (chars.indexOf(text.charAt(i)) >= 0) {
        return i;
      }
    }
    return text.length();
  }

  /** FHIR id characters; the 64-character limit is not enforced (counting is safe). */
  static boolean validId(String s) {
    return !s.isEmpty() && s.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '.'));
  }
}
