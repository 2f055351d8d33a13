package org.fhirwall.fhir;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The patients a request names in its criteria. An answer about a named patient discloses that
 * patient even when it carries no resource: a count ({@code Observation?subject=Patient/1&_summary=count}),
 * an empty search, a conditional create that matched. fhirwall charges them like the patients a
 * response shows. When in doubt, a value is taken as a patient (over-counting is safe).
 */
public final class RequestPatients {
  private static final Pattern PATIENT_REF = Pattern.compile("(?:^|/)Patient/([A-Za-z0-9\\-.]{1,64})(?:/|$)");
  private static final Pattern BARE_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
  private static final int MAX_ENTRY_DEPTH = 4;

  private RequestPatients() {}

  /** Keys ({@code Patient/{id}}) of the patients named by this request and its bundle entries. */
  public static Set<String> named(FhirRequest request) {
    Set<String> out = new LinkedHashSet<>();
    collect(request, out, 0);
    return out;
  }

  private static void collect(FhirRequest r, Set<String> out, int depth) {
    ResourceId compartment = r.compartment();
    if (compartment != null && compartment.type().equals("Patient")) {
      out.add("Patient/" + compartment.id());
    }
    if ("Patient".equals(r.resourceType()) && r.id() != null) {
      out.add("Patient/" + r.id());
    }
    params(r.params(), "Patient".equals(r.resourceType()), out);
    params(r.ifNoneExist(), "Patient".equals(r.resourceType()), out);
    if (depth < MAX_ENTRY_DEPTH) {
      for (FhirRequest.BundleEntry e : r.entries()) {
        collect(e.request(), out, depth + 1);
      }
    }
  }

  private static void params(List<QueryParam> params, boolean onPatient, Set<String> out) {
    for (QueryParam p : params) {
      String base = p.baseName();
      boolean patientParam = base.equals("patient") || "Patient".equals(p.modifier()) || onPatient && base.equals("_id");
      for (String value : splitOr(p.value())) {
        Matcher m = PATIENT_REF.matcher(value);
        boolean any = false;
        while (m.find()) {
          out.add("Patient/" + m.group(1));
          any = true;
        }
        if (!any && patientParam && p.chain() == null && BARE_ID.matcher(value).matches()) {
          out.add("Patient/" + value);
        }
      }
    }
  }

  /** The values of a FHIR OR-list; {@code \,} is an escaped comma inside a value. */
  static List<String> splitOr(String value) {
    java.util.ArrayList<String> parts = new java.util.ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\' && i + 1 < value.length() && value.charAt(i + 1) == ',') {
        cur.append(',');
        i++;
      } else if (c == ',') {
        parts.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    parts.add(cur.toString());
    return parts;
  }
}
