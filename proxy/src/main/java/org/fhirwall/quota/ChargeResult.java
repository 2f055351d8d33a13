package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of charging a response: admitted (and counted), or refused (and nothing counted).
 * {@link #note()} is a remark for the audit record, e.g. that the shared store was unreachable and
 * this replica charged the patients under its own share of the limits.
 */
public sealed interface ChargeResult {

  @Nullable String note();

  /**
   * The patients are counted; the response may be released.
   *
   * @param usage each window after the charge
   * @param newPatients how many of the response's patients were new to the longest window
   * @param wouldRefuse in report-only mode, the window an enforcing charge would have refused at
   */
  record Admitted(List<WindowUsage> usage, int newPatients, @Nullable WindowUsage wouldRefuse, @Nullable String note)
      implements ChargeResult {
    public Admitted {
      usage = List.copyOf(usage);
    }

    public Admitted(List<WindowUsage> usage, int newPatients, @Nullable WindowUsage wouldRefuse) {
      this(usage, newPatients, wouldRefuse, null);
    }

    Admitted noted(String text) {
      return new Admitted(usage, newPatients, wouldRefuse, text);
    }
  }

  /**
   * The response would take the account over {@code breached}'s limit: it must not be released,
   * and none of its patients were counted. {@code retryAfter} is when enough earlier patients
   * will have left the window for this response to fit (the window's length when it never fits).
   */
  record Refused(WindowUsage breached, List<WindowUsage> usage, Duration retryAfter, @Nullable String note)
      implements ChargeResult {
    public Refused {
      requireNonNull(breached, "breached");
      usage = List.copyOf(usage);
      requireNonNull(retryAfter, "retryAfter");
    }

    public Refused(WindowUsage breached, List<WindowUsage> usage, Duration retryAfter) {
      this(breached, usage, retryAfter, null);
    }

    Refused noted(String text) {
      return new Refused(breached, usage, retryAfter, text);
    }
  }

  /**
   * The account is held ({@link ChargeRequest#hold}): the response must not be released, and none of its patients
   * were counted; it is answered as a request held before the EPR is asked is.
   */
  record Held(QuotaStore.Held held, @Nullable String note) implements ChargeResult {
    public Held {
      requireNonNull(held, "held");
    }

    Held noted(String text) {
      return new Held(held, text);
    }
  }
}
