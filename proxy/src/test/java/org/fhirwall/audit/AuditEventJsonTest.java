package org.fhirwall.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;

class AuditEventJsonTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

  static AuditRecord record(AuditRecord.Outcome outcome, List<String> patients, String breakGlass) {
    Principal p = new Principal(Principal.Kind.USER, "https://idp/realms/h", "sub-1", "alice", "fhirwall-web",
        Set.of("physician"), "1", Set.of("otp"), NOW, "sid-1", Set.of(), null, NOW.plusSeconds(60), "jti-1");
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "req-1", outcome, outcome == AuditRecord.Outcome.ALLOWED ? 200 : 429,
        p, "physician", "enforce", "GET", "search-type", "Observation", null, "Observation?code=x&_count=50", patients,
        patients.size(), Map.of("1h", 12, "24h", 40), outcome == AuditRecord.Outcome.ALLOWED ? null : "patient-limit:1h",
        "", List.of("_count 500 lowered to 50"), breakGlass, "10.0.0.7", "00-abc-def-01", 1234);
  }

  @Test
  void aDecisionIsOneLineHoldingAValidBalpAuditEvent() {
    byte[] line = AuditEventJson.line(record(AuditRecord.Outcome.ALLOWED, List.of("Patient/1", "Patient/2"), null));
    String text = new String(line, StandardCharsets.UTF_8);
    assertThat(text).endsWith("\n").doesNotContain("\n\n");
    assertThat(text.indexOf('\n')).isEqualTo(text.length() - 1);
    FhirContext ctx = FhirContext.forR4Cached();
    AuditEvent e = ctx.newJsonParser().setParserErrorHandler(new StrictErrorHandler()).parseResource(AuditEvent.class, text);
    assertThat(e.getType().getCode()).isEqualTo("rest");
    assertThat(e.getSubtypeFirstRep().getCode()).isEqualTo("search-type");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._0);
    assertThat(e.getAgentFirstRep().getWho().getIdentifier().getValue()).isEqualTo("sub-1");
    assertThat(e.getAgentFirstRep().getNetwork().getAddress()).isEqualTo("10.0.0.7");
    assertThat(e.getEntity()).extracting(x -> x.getWhat().getReference()).contains("Patient/1", "Patient/2");
    assertThat(e.getEntityFirstRep().getDetail()).anyMatch(d -> d.getType().equals("usage-1h") && d.getValue().primitiveValue().equals("12"));
  }

  @Test
  void breakGlassIsMarkedAsPurposeOfEvent() {
    String text = new String(AuditEventJson.line(record(AuditRecord.Outcome.ALLOWED, List.of(), "cardiac arrest, bed 4")), StandardCharsets.UTF_8);
    AuditEvent e = FhirContext.forR4Cached().newJsonParser().parseResource(AuditEvent.class, text);
    assertThat(e.getPurposeOfEventFirstRep().getCodingFirstRep().getCode()).isEqualTo("BTG");
    assertThat(e.getPurposeOfEventFirstRep().getText()).isEqualTo("cardiac arrest, bed 4");
  }

  @Test
  void aRefusalIsAMinorFailureWithItsRule() {
    String text = new String(AuditEventJson.line(record(AuditRecord.Outcome.THROTTLED, List.of(), null)), StandardCharsets.UTF_8);
    AuditEvent e = FhirContext.forR4Cached().newJsonParser().parseResource(AuditEvent.class, text);
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._4);
    assertThat(e.getEntityFirstRep().getDetail()).anyMatch(d -> d.getType().equals("rule") && d.getValue().primitiveValue().equals("patient-limit:1h"));
  }
}
