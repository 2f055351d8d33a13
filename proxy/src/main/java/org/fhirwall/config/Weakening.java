package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.fhirwall.auth.AuthenticationStrength;
import org.fhirwall.policy.Mode;
import org.fhirwall.policy.PolicySet;
import org.fhirwall.policy.RolePolicy;
import org.jspecify.annotations.Nullable;

/**
 * A change that lowers a role's protection when policies are reloaded: an enforcing role switched
 * to {@code report-only}, an enforced {@code unexplained-limits} budget switched to report-only or removed, or an authentication requirement lowered (an {@code acr} or
 * {@code amr-any-of} value accepted that was not, an {@code amr} method or {@code max-age} removed,
 * a longer {@code max-age}, a {@code sender-constrained} requirement loosened or removed), in the
 * role's {@code authentication}, an
 * {@code operation-authentication} of an operation it still allows, or its
 * {@code break-glass.authentication}. Roles added or removed are not weakenings.
 *
 * @param role the role's name
 * @param file the file the new policy comes from
 * @param key the key that changed ({@code mode}, {@code authentication.max-age}, ...)
 * @param before the value in force, as written
 * @param after the new value
 */
public record Weakening(String role, String file, String key, String before, String after) {
  public Weakening {
    requireNonNull(role, "role");
    requireNonNull(file, "file");
    requireNonNull(key, "key");
    requireNonNull(before, "before");
    requireNonNull(after, "after");
  }

  @Override
  public String toString() {
    return role + ": " + key + ": " + before + " -> " + after;
  }

  /** Every weakening from the policies in force to a new set, role by role (matched by name). */
  static List<Weakening> between(PolicySet before, PolicySet after) {
    List<Weakening> out = new ArrayList<>();
    for (RolePolicy now : after.roles()) {
      RolePolicy was = before.byName(now.name()).orElse(null);
      if (was == null) {
        continue;
      }
      if (was.mode() == Mode.ENFORCE && now.mode() == Mode.REPORT_ONLY) {
        out.add(new Weakening(now.name(), now.source(), "mode", Mode.ENFORCE.code(), Mode.REPORT_ONLY.code()));
      }
      if (was.chargesUnexplained() && was.enforcesUnexplained() && now.mode() == Mode.ENFORCE && !now.enforcesUnexplained()) {
        out.add(new Weakening(now.name(), now.source(), now.chargesUnexplained() ? "unexplained-mode" : "unexplained-limits",
            Mode.ENFORCE.code(), now.chargesUnexplained() ? Mode.REPORT_ONLY.code() : "removed"));
      }
      compare(now, "authentication.", was.authentication(), now.authentication(), out);
      for (Map.Entry<String, AuthenticationStrength> e : was.operationAuthentication().entrySet()) {
        if (now.operations().contains(e.getKey())) {
          compare(now, "operation-authentication.$" + e.getKey() + ".", e.getValue(),
              now.operationAuthentication().getOrDefault(e.getKey(), AuthenticationStrength.NONE), out);
        }
      }
      if (was.breakGlass().enabled() && now.breakGlass().enabled()) {
        compare(now, "break-glass.authentication.", was.breakGlass().authentication(), now.breakGlass().authentication(), out);
      }
    }
    return out;
  }

  private static void compare(RolePolicy role, String prefix, AuthenticationStrength was, AuthenticationStrength now,
      List<Weakening> out) {
    if (!was.acceptedAcr().isEmpty() && (now.acceptedAcr().isEmpty() || !was.acceptedAcr().containsAll(now.acceptedAcr()))) {
      out.add(new Weakening(role.name(), role.source(), prefix + "acr", list(was.acceptedAcr()), orAny(now.acceptedAcr())));
    }
    if (!now.requiredAmr().containsAll(was.requiredAmr())) {
      out.add(new Weakening(role.name(), role.source(), prefix + "amr", list(was.requiredAmr()), list(now.requiredAmr())));
    }
    if (!was.anyAmr().isEmpty()) {
      boolean widened = !now.anyAmr().isEmpty() && !was.anyAmr().containsAll(now.anyAmr());
      boolean dropped = now.anyAmr().isEmpty() && now.requiredAmr().stream().noneMatch(was.anyAmr()::contains);
      if (widened || dropped) {
        out.add(new Weakening(role.name(), role.source(), prefix + "amr-any-of", list(was.anyAmr()), orAny(now.anyAmr())));
      }
    }
    if (!now.senderConstrained().atLeast(was.senderConstrained())) {
      out.add(new Weakening(role.name(), role.source(), prefix + "sender-constrained", was.senderConstrained().code(),
          now.senderConstrained().code()));
    }
    Duration before = was.maxAge();
    Duration after = now.maxAge();
    if (before != null && (after == null || after.compareTo(before) > 0)) {
      out.add(new Weakening(role.name(), role.source(), prefix + "max-age", age(before), age(after)));
    }
  }

  private static String list(Set<String> values) {
    return new TreeSet<>(values).toString();
  }

  private static String orAny(Set<String> values) {
    return values.isEmpty() ? "none" : list(values);
  }

  private static String age(@Nullable Duration d) {
    if (d == null) {
      return "none";
    }
    long s = d.toSeconds();
    return s % 86_400 == 0 ? s / 86_400 + "d" : s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
  }
}
