package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The id-walk signal of a role (the {@code enumeration} section of a role policy): a principal
 * whose requests get more than {@code maxNotFound} "not found" answers within {@code window} is
 * probing ids. The policy only holds the figures; the request stage counts and acts.
 *
 * @param maxNotFound the most 404 answers tolerated in one window
 * @param window the sliding window the answers are counted in
 * @param action what happens when the count is exceeded
 * @param lockFor how long the account stays locked; set exactly when {@code action} is {@link Action#LOCK}
 */
public record EnumerationRules(int maxNotFound, Duration window, Action action, @Nullable Duration lockFor) {
  /** What an exceeded count does. Both write the audit record. */
  public enum Action {
    /** Lock the account (like a patient limit with {@code at-limit.action: lock}) and raise an alert. */
    LOCK("lock"),
    /** Raise an alert only. */
    ALERT("alert");

    private final String code;

    Action(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }
  }

  public EnumerationRules {
    if (maxNotFound < 1) {
      throw new IllegalArgumentException("maxNotFound: " + maxNotFound + " (expected: >= 1)");
    }
    requireNonNull(window, "window");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window: " + window + " (expected: > 0)");
    }
    requireNonNull(action, "action");
    if ((action == Action.LOCK) != (lockFor != null)) {
      throw new IllegalArgumentException("lockFor: " + lockFor + " (expected: set exactly when action is lock)");
    }
    if (lockFor != null && (lockFor.isNegative() || lockFor.isZero())) {
      throw new IllegalArgumentException("lockFor: " + lockFor + " (expected: > 0)");
    }
  }

  public boolean locks() {
    return action == Action.LOCK;
  }
}
