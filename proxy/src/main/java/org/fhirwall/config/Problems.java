package org.fhirwall.config;

import java.util.ArrayList;
import java.util.List;

/** Collects problems while files are read, so one run reports all of them. Not thread-safe. */
final class Problems {
  private final List<ConfigProblem> found = new ArrayList<>();

  void add(ConfigProblem problem) {
    found.add(problem);
  }

  void add(Location where, String key, String message) {
    found.add(where.problem(key, message));
  }

  int size() {
    return found.size();
  }

  boolean isEmpty() {
    return found.isEmpty();
  }

  List<ConfigProblem> all() {
    return List.copyOf(found);
  }

  void throwIfAny() throws ConfigException {
    if (!found.isEmpty()) {
      throw new ConfigException(found);
    }
  }
}
