package org.fhirwall.policy;

import java.util.ArrayList;
import java.util.List;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.QueryParam;

/**
 * Requests for totals only ({@code _summary=count}, a {@code _count} of zero) as the policy engine forwards them: a
 * count over patients the request does not name is resolved into the search for what it counts (its patients are
 * charged, the count rebuilt from the answer), and a count of an operation's answer is asked as HAPI FHIR counts it
 * right. Free of state.
 */
final class CountOnly {
  private CountOnly() {}

  /**
   * {@code _summary=count}, or a {@code _count} of zero however written ({@code 0}, {@code 00}, {@code -0},
   * {@code +0}: HAPI FHIR reads it with {@code Integer.parseInt}): an answer of totals only.
   */
  static boolean isCountOnly(FhirRequest r) {
    for (QueryParam p : r.params()) {
      if (p.name().equals("_summary") && p.value().equals("count")
          || p.name().equals("_count") && parseCount(p.value()) == 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * A count-only search made into the search for the resources it counts: one page of the role's
   * {@code max-count}, no includes, no projection; the count is rebuilt from it.
   */
  static FhirRequest resolve(RolePolicy role, FhirRequest request, List<String> notes) {
    List<QueryParam> params = new ArrayList<>(request.params().size());
    for (QueryParam p : request.params()) {
      String base = p.baseName();
      if (base.equals("_summary") || base.equals("_count") || base.equals("_include") || base.equals("_revinclude")
          || base.equals("_elements") || base.equals("_total")) {
        continue;
      }
      params.add(p);
    }
    params.add(new QueryParam("_count", Integer.toString(role.search().maxCount())));
    notes.add("count-only search resolved by fhirwall: the matching resources are fetched and their patients charged");
    return request.withParams(params);
  }

  /**
   * A count of an operation's answer ({@code Patient/1/$everything?_count=0}: it names its patient, so it is not
   * resolved) forwarded as {@code _summary=count} without {@code _count}: HAPI FHIR's JPA server answers a zero
   * {@code _count} on {@code $everything} with the number of resources in the whole server, even beside
   * {@code _summary=count}, and {@code _summary=count} alone with the patient's own.
   */
  static FhirRequest bySummary(FhirRequest request, List<String> notes, String prefix) {
    List<QueryParam> params = new ArrayList<>(request.params().size());
    boolean summary = false;
    for (QueryParam p : request.params()) {
      if (p.name().equals("_count")) {
        continue;
      }
      summary |= p.name().equals("_summary") && p.value().equals("count");
      params.add(p);
    }
    if (!summary) {
      params.add(new QueryParam("_summary", "count"));
    }
    if (params.equals(request.params())) {
      return request;
    }
    notes.add(prefix + "count of $" + request.operation() + " forwarded as _summary=count");
    return request.withParams(params);
  }

  /** A {@code _count} as HAPI FHIR reads it ({@code Integer.parseInt} of the trimmed value); -1 when it is none. */
  static int parseCount(String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }}
