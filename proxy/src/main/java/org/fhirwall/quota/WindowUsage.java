package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

/** How many distinct patients an account has seen in one window (or would have, for a refused charge). */
public record WindowUsage(PatientWindow window, int distinct) {
  public WindowUsage {
    requireNonNull(window, "window");
  }

  public boolean exceeded() {
    return distinct > window.max();
  }
}
