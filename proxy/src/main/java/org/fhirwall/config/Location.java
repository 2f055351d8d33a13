package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Where a configuration value came from: a position in a file, an environment variable or a
 * command-line flag. Paths written in a file are relative to that file; the others to the
 * working directory.
 */
record Location(String source, int line, int column, boolean inFile) {
  Location {
    requireNonNull(source, "source");
  }

  static Location of(String file, Node node) {
    Mark m = node.getStartMark();
    return m == null ? new Location(file, 0, 0, true) : new Location(file, m.getLine() + 1, m.getColumn() + 1, true);
  }

  static Location wholeFile(String file) {
    return new Location(file, 0, 0, true);
  }

  static Location environment(String variable) {
    return new Location("environment variable " + variable, 0, 0, false);
  }

  static Location flag(String flag) {
    return new Location("flag " + flag, 0, 0, false);
  }

  ConfigProblem problem(String key, String message) {
    return new ConfigProblem(source, line, column, key, message);
  }
}
