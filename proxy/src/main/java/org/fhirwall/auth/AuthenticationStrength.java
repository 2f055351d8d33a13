package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * How strongly a principal must have authenticated for a role (or a sensitive action within it).
 * A conjunction: a token satisfies it only when it satisfies every part.
 *
 * <ul>
 *   <li>{@code acr}: the token's {@code acr} must be one of these; null: any {@code acr} (no
 *       requirement). An <em>empty</em> set is satisfied by nothing: it is what two disjoint acr
 *       lists combine to, and {@link #conflict()} reports it.
 *   <li>{@code requiredAmr}: every one of these methods must appear in {@code amr}.
 *   <li>{@code anyAmrOf}: for <em>each</em> of these sets, at least one of its methods must appear
 *       in {@code amr} (a role's {@code amr-any-of} and an operation's each keep their own list).
 *   <li>{@code maxAge}: the time since {@code auth_time} must not exceed this; a token without
 *       {@code auth_time} fails such a requirement (null: no age requirement).
 *   <li>{@code senderConstrained}: the token must be bound to a key the request proved
 *       ({@link SenderConstraint}); not part of {@link #requiresNothing()}, since a service
 *       account can meet it too.
 * </ul>
 *
 * <p>{@link #and} only ever adds requirements, so combining a role's requirement with an
 * operation's or break-glass's can never be weaker than either. {@link #NONE} requires nothing
 * and is meant for service accounts only. Immutable.
 */
public record AuthenticationStrength(
    @Nullable Set<String> acr, Set<String> requiredAmr, List<Set<String>> anyAmrOf, @Nullable Duration maxAge,
    SenderConstraint senderConstrained) {

  public static final AuthenticationStrength NONE = new AuthenticationStrength(null, Set.of(), List.of(), null);

  /** No sender constraint. */
  public AuthenticationStrength(@Nullable Set<String> acr, Set<String> requiredAmr, List<Set<String>> anyAmrOf,
      @Nullable Duration maxAge) {
    this(acr, requiredAmr, anyAmrOf, maxAge, SenderConstraint.NONE);
  }

  public AuthenticationStrength {
    acr = acr == null ? null : Set.copyOf(acr);
    requiredAmr = Set.copyOf(requiredAmr);
    List<Set<String>> lists = new ArrayList<>();
    for (Set<String> s : anyAmrOf) {
      Set<String> copy = Set.copyOf(s);
      if (copy.isEmpty()) {
        throw new IllegalArgumentException("anyAmrOf: an empty set (expected: at least one method in each)");
      }
      if (!lists.contains(copy)) {
        lists.add(copy);
      }
    }
    anyAmrOf = List.copyOf(lists);
    if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
      throw new IllegalArgumentException("maxAge: " + maxAge + " (expected: > 0)");
    }
    requireNonNull(senderConstrained, "senderConstrained");
  }

  /** The same requirement, with the token also bound to a key as {@code constraint} says. */
  public AuthenticationStrength withSenderConstraint(SenderConstraint constraint) {
    return new AuthenticationStrength(acr, requiredAmr, anyAmrOf, maxAge, senderConstrained.and(constraint));
  }

  /**
   * The form a policy file writes: {@code acr} (any one; empty: no requirement), {@code amr} (all),
   * {@code amr-any-of} (at least one; empty: no requirement), {@code max-age}.
   */
  public AuthenticationStrength(Set<String> acceptedAcr, Set<String> requiredAmr, Set<String> anyAmr,
      @Nullable Duration maxAge) {
    this(acceptedAcr.isEmpty() ? null : acceptedAcr, requiredAmr, anyAmr.isEmpty() ? List.of() : List.of(anyAmr), maxAge);
  }

  /** The accepted {@code acr} values; empty when any acr is accepted (see {@link #acr()} for the exact form). */
  public Set<String> acceptedAcr() {
    return acr == null ? Set.of() : acr;
  }

  /** Every method named by some {@code amr-any-of} list. */
  public Set<String> anyAmr() {
    Set<String> all = new LinkedHashSet<>();
    anyAmrOf.forEach(all::addAll);
    return all;
  }

  public boolean requiresNothing() {
    return acr == null && requiredAmr.isEmpty() && anyAmrOf.isEmpty() && maxAge == null;
  }

  /**
   * Both requirements at once: the acr lists intersected (a value must be in each), the amr
   * methods merged, every any-of list kept, the shorter age. Never weaker than either part; when
   * nothing can satisfy the result, {@link #conflict()} says why.
   */
  public AuthenticationStrength and(AuthenticationStrength other) {
    requireNonNull(other, "other");
    Set<String> both;
    if (acr == null) {
      both = other.acr;
    } else if (other.acr == null) {
      both = acr;
    } else {
      both = new HashSet<>(acr);
      both.retainAll(other.acr);
    }
    Set<String> req = new HashSet<>(requiredAmr);
    req.addAll(other.requiredAmr);
    List<Set<String>> any = new ArrayList<>(anyAmrOf);
    any.addAll(other.anyAmrOf);
    Duration age = maxAge == null ? other.maxAge
        : other.maxAge == null ? maxAge
        : (maxAge.compareTo(other.maxAge) <= 0 ? maxAge : other.maxAge);
    return new AuthenticationStrength(both, req, any, age, senderConstrained.and(other.senderConstrained));
  }

  /** Why no token can satisfy this requirement, or empty when some token can. */
  public Optional<String> conflict() {
    if (acr != null && acr.isEmpty()) {
      return Optional.of("the acr lists have no value in common, so no token can satisfy them all");
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    if (acr != null) {
      parts.add("acr in " + new TreeSet<>(acr));
    }
    if (!requiredAmr.isEmpty()) {
      parts.add("amr has all of " + new TreeSet<>(requiredAmr));
    }
    for (Set<String> s : anyAmrOf) {
      parts.add("amr has one of " + new TreeSet<>(s));
    }
    if (maxAge != null) {
      parts.add("login within " + maxAge);
    }
    if (senderConstrained != SenderConstraint.NONE) {
      parts.add(senderConstrained.code() + "-bound token");
    }
    return parts.isEmpty() ? "nothing" : String.join(" and ", parts);
  }
}
