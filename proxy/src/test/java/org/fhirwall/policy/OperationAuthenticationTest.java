package org.fhirwall.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.policy.PolicyEngineTest.NOW;
import static org.fhirwall.policy.PolicyEngineTest.user;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.Interaction;
import org.junit.jupiter.api.Test;
import org.fhirwall.respond.Refusals;

/** Sensitive operations can ask for a fresher authentication than the role's ordinary requests. */
class OperationAuthenticationTest {
  static final String ROLE = """
      role: physician
      applies-to: {roles: [physician]}
      authentication: {amr: [otp], max-age: 12h}
      interactions: [read, operation-instance]
      resource-types: [Patient]
      operations: [everything]
      operation-authentication:
        $everything: {max-age: 15m}
      patient-limits: [{window: 1h, max: 40}]
      """;

  final PolicyEngine engine = new PolicyEngine(new PolicySet(List.of(PolicyEngineTest.role(ROLE))));

  static FhirRequest everything() {
    return new FhirRequest(Interaction.OPERATION_INSTANCE, "GET", "Patient", "1", null, null, "everything", false, List.of(),
        List.of(), Format.JSON, false, false, null, List.of(), List.of(), FhirRequest.Body.EMPTY);
  }

  static FhirRequest read() {
    return new FhirRequest(Interaction.READ, "GET", "Patient", "1", null, null, null, false, List.of(),
        List.of(), Format.JSON, false, false, null, List.of(), List.of(), FhirRequest.Body.EMPTY);
  }

  @Test
  void aLoginOfTwoHoursAgoReadsButMustStepUpForEverything() {
    var principal = user(Set.of("physician"), Set.of("pwd", "otp"), NOW.minus(Duration.ofHours(2)));
    assertThat(engine.decide(principal, read(), null, 1, NOW)).isInstanceOf(Decision.Allow.class);
    assertThat(engine.decide(principal, everything(), null, 1, NOW)).isInstanceOfSatisfying(Decision.Deny.class, d -> {
      assertThat(Refusals.of(d).status()).isEqualTo(401);
      assertThat(Refusals.of(d).headers().get("WWW-Authenticate")).contains("insufficient_user_authentication").contains("max_age=900");
    });
    var fresh = user(Set.of("physician"), Set.of("pwd", "otp"), NOW.minus(Duration.ofMinutes(5)));
    assertThat(engine.decide(fresh, everything(), null, 1, NOW)).isInstanceOf(Decision.Allow.class);
  }
}
