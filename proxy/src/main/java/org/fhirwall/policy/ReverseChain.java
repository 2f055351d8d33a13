package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import org.fhirwall.fhir.QueryParam;
import org.jspecify.annotations.Nullable;

/**
 * Where a reverse chain ends: the type it searches last and the parameter it ends in, as a parameter of that type
 * ({@code code:text} of Observation for {@code _has:Observation:subject:code:text=...}, through nested {@code _has}
 * links), with the chain's value. The policy judges that parameter like one of the type's own.
 */
record ReverseChain(String type, QueryParam end) {
  private static final String HAS = "_has:";

  ReverseChain {
    requireNonNull(type, "type");
    requireNonNull(end, "end");
  }

  /** The end of {@code p}'s reverse chain; null when {@code p} is not one written {@code _has:Type:reference:parameter}. */
  static @Nullable ReverseChain of(QueryParam p) {
    String name = p.name();
    String type = null;
    while (name.startsWith(HAS)) {
      String[] links = name.split(":", 4);
      if (links.length < 4 || links[1].isEmpty() || links[2].isEmpty() || links[3].isEmpty()) {
        return null;
      }
      type = links[1];
      name = links[3];
    }
    return type == null ? null : new ReverseChain(type, new QueryParam(name, p.value()));
  }
}
