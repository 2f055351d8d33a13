package org.fhirwall.policy;

/** Whether a role policy refuses what it forbids, or only reports it (staged rollout). */
public enum Mode {
  /** Refusals are sent, limits are enforced. */
  ENFORCE("enforce"),
  /** Decisions are computed and audited as they would be, but nothing is refused. */
  REPORT_ONLY("report-only");

  private final String code;

  Mode(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
