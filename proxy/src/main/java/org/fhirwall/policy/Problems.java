package org.fhirwall.policy;

import java.util.ArrayList;
import java.util.List;

/** Collects problems while a set of files is read, so one run reports all of them. Not thread-safe. */
final class Problems {
  private final List<ConfigProblem> found = new ArrayList<>();

  void add(String file, int line, String key, String message) {
    found.add(new ConfigProblem(file, line, key, message));
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
