package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

/**
 * One thing wrong with a configuration file, located for the person who edits it:
 * {@code policies/physician.yaml:12: patient-limits[0].max: -3 (expected: > 0)}.
 *
 * @param line 1-based line, 0 when the problem concerns the whole file
 */
public record ConfigProblem(String file, int line, String key, String message) {
  public ConfigProblem {
    requireNonNull(file, "file");
    requireNonNull(key, "key");
    requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    String where = line > 0 ? file + ":" + line : file;
    return key.isEmpty() ? where + ": " + message : where + ": " + key + ": " + message;
  }
}
