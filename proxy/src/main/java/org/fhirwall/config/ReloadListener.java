package org.fhirwall.config;

/**
 * Told the outcome of every policy reload (applied or refused, and what changed), e.g. to write it
 * to the audit trail. Called on the reloader's own thread, after the outcome is in force and
 * logged; must not block for long. An exception it throws is logged and ignored.
 */
@FunctionalInterface
public interface ReloadListener {
  ReloadListener NONE = outcome -> {};

  void reloaded(ReloadOutcome outcome);
}
