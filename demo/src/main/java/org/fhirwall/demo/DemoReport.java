package org.fhirwall.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * What the demo's four scenes showed. {@link #toJson()} writes the keys scripts rely on
 * ({@code patients_in_epr}, {@code clinician_workday.requests_ok}, ...): extend them, never rename.
 */
public record DemoReport(int patientsInEpr, Workday workday, PasswordOnly passwordOnly, StolenSession stolen,
    StolenDpopToken stolenDpop, long elapsedMillis) {

  /**
   * Scene 1: a clinician's ordinary day, MFA login, a few dozen patients; {@code patientsInCare}
   * of them in a care relationship of hers (as the EPR records them), so explained.
   */
  public record Workday(int requestsOk, int requestsRefused, int patientsSeen, int patientsInCare) {
    public Workday(int requestsOk, int requestsRefused, int patientsSeen) {
      this(requestsOk, requestsRefused, patientsSeen, 0);
    }
  }

  /** Scene 2: the stolen password, no second factor. */
  public record PasswordOnly(int requests, int firstStatus, String challenge, int patientsDisclosed) {}

  /**
   * Scene 3: a stolen MFA-backed session paging through every patient it can; {@code unexplainedLimit}
   * is the role's smallest limit on patients outside the clinician's care (0 when it has none),
   * {@code strangersDisclosed} how many of the patients it got were outside Dr Durand's care, and
   * {@code cutOffByUnexplainedLimit} whether the refusal named that budget.
   */
  public record StolenSession(int roleLimit, int requests, int requestsOk, int patientsDisclosed, int cutOffStatus,
      boolean locked, int alerts, int unexplainedLimit, int strangersDisclosed, boolean cutOffByUnexplainedLimit) {}

  /**
   * Scene 4: a DPoP-bound token copied without its key, tried four ways; {@code ownerStatus} is
   * what the clinician herself got with it (and her key) just before.
   */
  public record StolenDpopToken(int requests, int requestsRefused, int firstStatus, String challenge,
      int patientsDisclosed, int ownerStatus) {}

  public String toJson() {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("patients_in_epr", patientsInEpr);
    ObjectNode w = root.putObject("clinician_workday");
    w.put("requests_ok", workday.requestsOk());
    w.put("requests_refused", workday.requestsRefused());
    w.put("patients_seen", workday.patientsSeen());
    w.put("patients_in_care", workday.patientsInCare());
    ObjectNode p = root.putObject("password_only");
    p.put("requests", passwordOnly.requests());
    p.put("first_status", passwordOnly.firstStatus());
    p.put("challenge", passwordOnly.challenge());
    p.put("patients_disclosed", passwordOnly.patientsDisclosed());
    ObjectNode s = root.putObject("stolen_mfa_session");
    s.put("role_limit", stolen.roleLimit());
    s.put("requests", stolen.requests());
    s.put("requests_ok", stolen.requestsOk());
    s.put("patients_disclosed", stolen.patientsDisclosed());
    s.put("cut_off_status", stolen.cutOffStatus());
    s.put("locked", stolen.locked());
    s.put("alerts", stolen.alerts());
    s.put("unexplained_limit", stolen.unexplainedLimit());
    s.put("strangers_disclosed", stolen.strangersDisclosed());
    s.put("cut_off_by_unexplained_limit", stolen.cutOffByUnexplainedLimit());
    ObjectNode d = root.putObject("stolen_dpop_token");
    d.put("requests", stolenDpop.requests());
    d.put("requests_refused", stolenDpop.requestsRefused());
    d.put("first_status", stolenDpop.firstStatus());
    d.put("challenge", stolenDpop.challenge());
    d.put("patients_disclosed", stolenDpop.patientsDisclosed());
    d.put("owner_status", stolenDpop.ownerStatus());
    root.put("elapsed_ms", elapsedMillis);
    try {
      return mapper.writeValueAsString(root) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The short table the demo prints. */
  public String toTable() {
    StringBuilder sb = new StringBuilder();
    String row = "%-44s %8s %8s %9s%n";
    sb.append(String.format(Locale.ROOT, row, "scene", "allowed", "refused", "patients"));
    sb.append(String.format(Locale.ROOT, row, "1. clinician's working day (password + OTP)", workday.requestsOk(),
        workday.requestsRefused(), workday.patientsSeen()));
    sb.append(String.format(Locale.ROOT, row, "2. stolen password, no second factor", 0, passwordOnly.requests(),
        passwordOnly.patientsDisclosed()));
    sb.append(String.format(Locale.ROOT, row, "3. stolen MFA session paging all patients", stolen.requestsOk(),
        stolen.requests() - stolen.requestsOk(), stolen.patientsDisclosed()));
    sb.append(String.format(Locale.ROOT, row, "4. stolen DPoP-bound token, no key", stolenDpop.requests()
        - stolenDpop.requestsRefused(), stolenDpop.requestsRefused(), stolenDpop.patientsDisclosed()));
    sb.append('\n');
    sb.append(String.format(Locale.ROOT, "  1: every request answered; the clinician notices nothing (%d of her %d patients are in her "
        + "care: explained, not charged to the unexplained budget).%n", workday.patientsInCare(), workday.patientsSeen()));
    sb.append(String.format(Locale.ROOT, "  2: HTTP %d, step-up challenge: %s%n", passwordOnly.firstStatus(), passwordOnly.challenge()));
    if (stolen.cutOffByUnexplainedLimit()) {
      sb.append(String.format(Locale.ROOT, "  3: cut off with HTTP %d after %d strangers' records (the role's unexplained limit is %d), "
          + "long before its %d-patient limit; account %s; %d alert(s) sent.%n", stolen.cutOffStatus(), stolen.strangersDisclosed(),
          stolen.unexplainedLimit(), stolen.roleLimit(), stolen.locked() ? "locked" : "NOT locked", stolen.alerts()));
    } else {
      sb.append(String.format(Locale.ROOT, "  3: cut off with HTTP %d at %d of the role's %d-patient limit; account %s; %d alert(s) sent.%n",
          stolen.cutOffStatus(), stolen.patientsDisclosed(), stolen.roleLimit(), stolen.locked() ? "locked" : "NOT locked",
          stolen.alerts()));
    }
    sb.append(String.format(Locale.ROOT, "  4: HTTP %d every time (as Bearer, without proof, with the attacker's key, with a "
        + "replayed proof); the token is worth nothing without the key on the clinician's device.%n", stolenDpop.firstStatus()));
    sb.append(String.format(Locale.ROOT, "  The EPR held %,d patients; without fhirwall scene 3 could have taken all of them.%n",
        patientsInEpr));
    return sb.toString();
  }
}
