package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/** What a change of the policy directory led to. */
public sealed interface ReloadOutcome {

  /** The policy directory that changed. */
  Path directory();

  /**
   * The new policies are in force.
   *
   * @param roles the roles now in force, by name
   * @param added roles that were not there before
   * @param removed roles that are gone
   * @param changed roles whose policy changed
   * @param weakenings changes that lower a role's protection, applied because
   *     {@code policy-reload.allow-weakening} is true (empty otherwise)
   */
  record Applied(Path directory, List<String> roles, List<String> added, List<String> removed, List<String> changed,
      List<Weakening> weakenings) implements ReloadOutcome {
    public Applied {
      requireNonNull(directory, "directory");
      roles = List.copyOf(roles);
      added = List.copyOf(added);
      removed = List.copyOf(removed);
      changed = List.copyOf(changed);
      weakenings = List.copyOf(weakenings);
    }
  }

  /**
   * The policies in force stay: the change is invalid, or weakens a role while
   * {@code policy-reload.allow-weakening} is false.
   *
   * @param problems every reason, each naming file, line and key
   * @param weakenings the weakenings among them (empty when the change is invalid)
   */
  record Refused(Path directory, List<ConfigProblem> problems, List<Weakening> weakenings) implements ReloadOutcome {
    public Refused {
      requireNonNull(directory, "directory");
      problems = List.copyOf(problems);
      weakenings = List.copyOf(weakenings);
    }
  }
}
