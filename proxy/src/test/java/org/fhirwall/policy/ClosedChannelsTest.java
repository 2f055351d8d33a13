package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.junit.jupiter.api.Test;
import org.fhirwall.respond.Refusals;

/** Channels that interactive users never get, whatever their role allows. */
class ClosedChannelsTest {

  /** A user role that lists everything: the closed channels must be refused anyway. */
  static final String EVERYTHING = """
      role: superuser
      applies-to:
        roles: [superuser]
      authentication:
        amr: [otp]
      interactions: [read, vread, update, patch, delete, create, history-instance, history-type, history-system,
                     search-type, search-system, search-compartment, capabilities, batch, transaction,
                     operation-system, operation-type, operation-instance]
      resource-types: ["*"]
      operations: [process-message, evaluate-measure, cql, evaluate, collect-data, data-requirements, care-gaps,
                   submit-data, apply, everything]
      patient-limits:
        - {window: 1h, max: 100}
      search:
        unselective: cap
      """;

  private final PolicyEngine engine = Fhir.engine(EVERYTHING);
  private final Principal user = Fhir.user("superuser");

  private static final String SUBSCRIPTION = "{\"resourceType\":\"Subscription\",\"status\":\"requested\",\"reason\":\"r\","
      + "\"criteria\":\"Observation?code=x\",\"channel\":{\"type\":\"rest-hook\",\"endpoint\":\"https://x.example/h\"}}";

  private Decision.Deny refused(FhirRequest r, String rule) {
    Decision.Deny d = Fhir.denied(Fhir.decide(engine, user, r));
    assertThat(d.rule()).as(r.describe()).isEqualTo(rule);
    assertThat(Refusals.of(d).status()).isEqualTo(403);
    return d;
  }

  @Test
  void subscriptionsCannotBeCreatedOrChangedByUsers() {
    Decision.Deny d = refused(Fhir.req("POST", "Subscription", SUBSCRIPTION), "closed-subscription");
    assertThat(Refusals.of(d).diagnostics()).contains("Subscription is not available to interactive users");
    refused(Fhir.req("PUT", "Subscription/1", SUBSCRIPTION.replace("{\"resourceType\":\"Subscription\",",
        "{\"resourceType\":\"Subscription\",\"id\":\"1\",")), "closed-subscription");
    refused(Fhir.req("PATCH", "Subscription/1", "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"active\"}]",
        "Content-Type: application/json-patch+json"), "closed-subscription");
    refused(Fhir.req("PUT", "Subscription?status=off", SUBSCRIPTION), "closed-subscription");
    refused(Fhir.bundle("transaction", "GET Patient/1", "POST Subscription"), "closed-subscription");
    assertThat(Fhir.decide(engine, user, Fhir.get("Subscription?_id=1"))).as("reading is the role's business")
        .isInstanceOf(Decision.Allow.class);
  }

  @Test
  void messagingAndCqlOrMeasureEvaluationAreClosedToUsers() {
    for (String target : List.of("$process-message", "Measure/1/$evaluate-measure?periodStart=2024", "Measure/$evaluate-measure",
        "$cql?expression=x", "Library/1/$evaluate", "Measure/1/$collect-data", "Measure/1/$data-requirements",
        "Measure/$care-gaps", "Measure/$submit-data", "PlanDefinition/1/$apply?subject=Patient/1")) {
      boolean post = target.equals("$process-message") || target.equals("Measure/$submit-data");
      FhirRequest r = post ? Fhir.req("POST", target, "{\"resourceType\":\"Parameters\"}") : Fhir.get(target);
      Decision.Deny d = refused(r, "closed-operation");
      assertThat(Refusals.of(d).diagnostics()).as(target).contains("is not available to interactive users");
    }
    assertThat(Fhir.decide(engine, user, Fhir.get("Patient/1/$everything"))).isInstanceOf(Decision.Allow.class);
  }

  @Test
  void asynchronousRequestsAreClosedToUsers() {
    Decision.Deny d = refused(Fhir.get("Patient/1", "Prefer: respond-async"), "closed-async");
    assertThat(Refusals.of(d).diagnostics()).contains("Prefer: respond-async").contains("interactive users");
    refused(Fhir.get("Patient/1/$everything", "Prefer: respond-async"), "closed-async");
  }

  @Test
  void exportIsClosedToUsers() {
    Decision.Deny d = refused(Fhir.get("Group/1/$export?_type=Patient"), "closed-operation");
    assertThat(Refusals.of(d).diagnostics()).contains("bulk export is run by a service account");
  }

  @Test
  void closedChannelsStayClosedInReportOnlyMode() {
    PolicyEngine reportOnly = Fhir.engine(EVERYTHING + "mode: report-only\n");
    assertThat(Fhir.denied(Fhir.decide(reportOnly, user, Fhir.req("POST", "Subscription", SUBSCRIPTION))).rule())
        .isEqualTo("closed-subscription");
    assertThat(Fhir.denied(Fhir.decide(reportOnly, user, Fhir.get("Patient/1", "Prefer: respond-async"))).rule())
        .isEqualTo("closed-async");
  }

  @Test
  void serviceRolesAreGovernedByTheirOwnListsOnly() {
    PolicyEngine svc = Fhir.engine(EVERYTHING.replace("  roles: [superuser]\n", "  roles: [superuser]\n  principal: service\n")
        .replace("authentication:\n  amr: [otp]\n", "").replace("apply, everything]", "apply, everything, export]"));
    Principal s = Fhir.service("superuser");
    assertThat(Fhir.decide(svc, s, Fhir.req("POST", "Subscription", SUBSCRIPTION))).isInstanceOf(Decision.Allow.class);
    assertThat(Fhir.decide(svc, s, Fhir.get("Measure/1/$evaluate-measure"))).isInstanceOf(Decision.Allow.class);
    assertThat(Fhir.decide(svc, s, Fhir.get("$export", "Prefer: respond-async"))).isInstanceOf(Decision.Allow.class);
  }
}
