package org.fhirwall.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process signals for {@code serve}: {@code SIGTERM} and {@code SIGHUP} are taken from the JVM's
 * default handling (which would end the process at once) and handed to fhirwall. Uses the JDK's
 * {@code sun.misc.Signal} (module {@code jdk.unsupported}); where a signal cannot be handled, that
 * is logged and the JVM's default stays.
 */
final class Signals {
  private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  @SuppressWarnings("restriction")
  static void on(String name, Runnable action) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.run());
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      LOG.warn("signal SIG{} cannot be handled here ({}); the JVM's default applies", name, e.getMessage());
    }
  }
}
