package org.fhirwall.admin;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What {@code /ready} answers: ready only while every check passes; each check says why it does
 * not. Warnings (a configuration that works but is weaker than it should be) are shown beside
 * the checks and do not make fhirwall unready. Checks are read on each probe; they must be cheap
 * and never block. Thread-safe once built.
 */
public final class Readiness {
  /** One check: null when fine, else why not (shown to the probe). */
  @FunctionalInterface
  public interface Check {
    @Nullable String problem();
  }

  private record Named(String name, Check check) {}

  private final List<Named> checks = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  /** Adds a check; call while assembling, before the admin listener starts. */
  public Readiness check(String name, Check check) {
    checks.add(new Named(requireNonNull(name, "name"), requireNonNull(check, "check")));
    return this;
  }

  /** Adds a standing warning. */
  public Readiness warn(String warning) {
    warnings.add(requireNonNull(warning, "warning"));
    return this;
  }

  /** The report: whether ready, and one line per check and warning. */
  public Report report() {
    List<String> lines = new ArrayList<>();
    boolean ready = true;
    for (Named n : checks) {
      String problem;
      try {
        problem = n.check().problem();
      } catch (RuntimeException e) {
        problem = "check failed: " + e;
      }
      ready &= problem == null;
      lines.add((problem == null ? "ok    " : "FAIL  ") + n.name() + (problem == null ? "" : ": " + problem));
    }
    warnings.forEach(w -> lines.add("warn  " + w));
    return new Report(ready, lines);
  }

  /** A readiness answer. */
  public record Report(boolean ready, List<String> lines) {
    public Report {
      lines = List.copyOf(lines);
    }

    public String text() {
      return (ready ? "ready" : "not ready") + "\n" + String.join("\n", lines);
    }
  }

  /** A check from a condition and its explanation. */
  public static Check when(Supplier<Boolean> ok, String otherwise) {
    return () -> ok.get() ? null : otherwise;
  }
}
