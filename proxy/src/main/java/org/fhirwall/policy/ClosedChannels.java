package org.fhirwall.policy;

import java.util.Optional;
import java.util.Set;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;

/**
 * Channels closed to interactive users whatever their role: they deliver data outside the
 * request/response fhirwall counts (a Subscription pushes to an endpoint, an asynchronous request
 * is fetched later as files, a message is processed server-side), or compute over many patients
 * on the EPR and return only a result (CQL and measure evaluation). Always enforced, also by
 * report-only roles. Service roles are governed by their {@code interactions} and
 * {@code operations} alone.
 */
final class ClosedChannels {

  /** Operations closed to users: messaging, CQL and quality-measure evaluation, bulk export. */
  static final Set<String> USER_CLOSED_OPERATIONS = Set.of("process-message", "evaluate-measure", "evaluate-measures",
      "submit-data", "collect-data", "data-requirements", "care-gaps", "cql", "evaluate", "evaluate-library", "apply",
      "export");

  private ClosedChannels() {}

  /** The violation of a request sent by an interactive user, checked on this request only (not its entries). */
  static Optional<Violation> forUser(FhirRequest r) {
    if (r.respondAsync()) {
      return refuse("closed-async", "Asynchronous requests (Prefer: respond-async) are not available to interactive "
          + "users; bulk data is exported by a service account");
    }
    Interaction i = r.interaction();
    if ("Subscription".equals(r.resourceType())
        && (i == Interaction.CREATE || i == Interaction.UPDATE || i == Interaction.PATCH)) {
      return refuse("closed-subscription", "Creating or changing a Subscription is not available to interactive users "
          + "(notifications would carry data past fhirwall)");
    }
    String op = r.operation();
    if (i.isOperation() && op != null && USER_CLOSED_OPERATIONS.contains(op)) {
      String why = op.equals("process-message") ? "messages are processed on the EPR, outside fhirwall's counting"
          : op.equals("export") ? "bulk export is run by a service account"
          : "it evaluates over many patients on the EPR, outside fhirwall's counting";
      return refuse("closed-operation", "Operation $" + op + " is not available to interactive users (" + why + ")");
    }
    return Optional.empty();
  }

  private static Optional<Violation> refuse(String rule, String message) {
    return Optional.of(Violation.alwaysForbidden(rule, message));
  }
}
