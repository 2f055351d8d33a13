package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a reverse chain goes and ends: the types it searches, link by link ({@code Encounter} then {@code Observation}
 * for {@code _has:Encounter:participant:_has:Observation:encounter:code=...}), and the parameter it ends in, as a
 * parameter of the last of them ({@code code:text} of Observation for {@code _has:Observation:subject:code:text=...}),
 * with the chain's value. The policy judges that parameter like one of the type's own, and a patient it names is named
 * by the request.
 */
public record ReverseChain(List<String> types, QueryParam end) {
  private static final String HAS = "_has:";

  public ReverseChain {
    types = List.copyOf(types);
    requireNonNull(end, "end");
    if (types.isEmpty()) {
      throw new IllegalArgumentException("types: [] (expected: at least one link)");
    }
  }

  /** The type the chain searches last, whose parameter it ends in. */
  public String type() {
    return types.get(types.size() - 1);
  }

  /** The end of {@code p}'s reverse chain; null when {@code p} is not one written {@code _has:Type:reference:parameter}. */
  public static @Nullable ReverseChain of(QueryParam p) {
    String name = p.name();
    List<String> types = new ArrayList<>(2);
    while (name.startsWith(HAS)) {
      String[] links = name.split(":", 4);
      if (links.length < 4 || links[1].isEmpty() || links[2].isEmpty() || links[3].isEmpty()) {
        return null;
      }
      types.add(links[1]);
      name = links[3];
    }
    return types.isEmpty() ? null : new ReverseChain(types, new QueryParam(name, p.value()));
  }
}
