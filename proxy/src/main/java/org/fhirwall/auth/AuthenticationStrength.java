package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How strongly a principal must have authenticated for a role (or a sensitive action within it).
 *
 * <ul>
 *   <li>{@code acceptedAcr}: the token's {@code acr} must be one of these (empty: any).
 *   <li>{@code requiredAmr}: every one of these methods must appear in {@code amr}; {@code anyAmr}:
 *       at least one of these must (both empty: no amr requirement).
 *   <li>{@code maxAge}: the time since {@code auth_time} must not exceed this; a token without
 *       {@code auth_time} fails such a requirement (null: no age requirement).
 * </ul>
 *
 * <p>{@link #NONE} requires nothing and is meant for service accounts only.
 */
public record AuthenticationStrength(
    Set<String> acceptedAcr, Set<String> requiredAmr, Set<String> anyAmr, @Nullable Duration maxAge) {

  public static final AuthenticationStrength NONE = new AuthenticationStrength(Set.of(), Set.of(), Set.of(), null);

  public AuthenticationStrength {
    acceptedAcr = Set.copyOf(acceptedAcr);
    requiredAmr = Set.copyOf(requiredAmr);
    anyAmr = Set.copyOf(anyAmr);
    if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
      throw new IllegalArgumentException("maxAge: " + maxAge + " (expected: > 0)");
    }
  }

  public boolean requiresNothing() {
    return acceptedAcr.isEmpty() && requiredAmr.isEmpty() && anyAmr.isEmpty() && maxAge == null;
  }

  /** The stricter of the two: acr sets intersected (or the non-empty one), amr sets merged, the shorter age. */
  public AuthenticationStrength and(AuthenticationStrength other) {
    requireNonNull(other, "other");
    Set<String> acr;
    if (acceptedAcr.isEmpty()) {
      acr = other.acceptedAcr;
    } else if (other.acceptedAcr.isEmpty()) {
      acr = acceptedAcr;
    } else {
      acr = new java.util.HashSet<>(acceptedAcr);
      acr.retainAll(other.acceptedAcr);
    }
    Set<String> req = new java.util.HashSet<>(requiredAmr);
    req.addAll(other.requiredAmr);
    Set<String> any = anyAmr.isEmpty() ? other.anyAmr : anyAmr;
    Duration age = maxAge == null ? other.maxAge
        : other.maxAge == null ? maxAge
        : (maxAge.compareTo(other.maxAge) <= 0 ? maxAge : other.maxAge);
    return new AuthenticationStrength(acr, req, any, age);
  }
}
