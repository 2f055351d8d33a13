package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

/**
 * One thing wrong with a configuration, located for the person who edits it:
 * {@code policies/physician.yaml:12:10: patient-limits[0].max: -3 (expected: 1..10000000)}.
 *
 * @param file the file, or where a value came from when not from a file ({@code environment
 *     variable FHIRWALL_LISTEN}, {@code flag --listen})
 * @param line 1-based line, 0 when the problem concerns the whole file or no file
 * @param column 1-based column, 0 when unknown
 * @param key the dotted key path ({@code search.max-count}, {@code patient-limits[1].max}); empty for the whole file
 */
public record ConfigProblem(String file, int line, int column, String key, String message) {
  public ConfigProblem {
    requireNonNull(file, "file");
    requireNonNull(key, "key");
    requireNonNull(message, "message");
  }

  /** A problem about a whole file, or about a key without a position. */
  public ConfigProblem(String file, String key, String message) {
    this(file, 0, 0, key, message);
  }

  @Override
  public String toString() {
    String where = line <= 0 ? file : column <= 0 ? file + ":" + line : file + ":" + line + ":" + column;
    return key.isEmpty() ? where + ": " + message : where + ": " + key + ": " + message;
  }
}
