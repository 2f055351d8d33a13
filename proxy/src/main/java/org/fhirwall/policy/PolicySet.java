package org.fhirwall.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.fhirwall.auth.Principal;

/**
 * All role policies in force, ordered by priority (highest first, then by name). Immutable; a
 * reload builds a new one and swaps it in whole.
 */
public record PolicySet(List<RolePolicy> roles) {

  private static final Comparator<RolePolicy> ORDER =
      Comparator.comparingInt(RolePolicy::priority).reversed().thenComparing(RolePolicy::name);

  public PolicySet {
    List<RolePolicy> sorted = new ArrayList<>(roles);
    sorted.sort(ORDER);
    roles = List.copyOf(sorted);
  }

  /**
   * The policy governing this principal: the highest-priority policy of the principal's kind
   * that names one of its roles; empty when none does (the principal then gets nothing).
   */
  public Optional<RolePolicy> select(Principal principal) {
    for (RolePolicy role : roles) {
      if (role.principalKind() != principal.kind()) {
        continue;
      }
      for (String r : principal.roles()) {
        if (role.roles().contains(r)) {
          return Optional.of(role);
        }
      }
    }
    return Optional.empty();
  }

  public Optional<RolePolicy> byName(String name) {
    for (RolePolicy role : roles) {
      if (role.name().equals(name)) {
        return Optional.of(role);
      }
    }
    return Optional.empty();
  }
}
