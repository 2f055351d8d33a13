package org.fhirwall.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;

/**
 * The audit budget (issue 18): records stay compact. Before compaction a read cost 2,410 bytes and a
 * 50-patient search 14,950; the bounds leave a little room above today's 1,388 and 3,846.
 */
class AuditRecordSizeTest {
  static AuditEvent parse(byte[] line) {
    return FhirContext.forR4Cached().newJsonParser().setParserErrorHandler(new StrictErrorHandler())
        .parseResource(AuditEvent.class, new String(line, StandardCharsets.UTF_8));
  }

  @Test
  void aReadRecordIsUnderOneAndAHalfKilobytesAndAValidAuditEvent() {
    byte[] line = AuditEventJson.line(AuditRecords.read());
    assertThat(line.length).isLessThan(1_500);
    AuditEvent e = parse(line);
    assertThat(e.getEntity()).extracting(x -> x.getWhat().getReference()).containsExactly(null, "Patient/pat-000123");
    assertThat(e.getAgentFirstRep().getRoleFirstRep().getText()).isEqualTo("physician");
    assertThat(e.getAgentFirstRep().getAltId()).isEqualTo("8d1f3a6e-2c4b-4e8f-a9d7-3b5c1e7f9a20");
  }

  @Test
  void aFiftyPatientSearchRecordIsUnderFourKilobytesWithOneEntityPerPatient() {
    byte[] line = AuditEventJson.line(AuditRecords.search50());
    assertThat(line.length).isLessThan(4_000);
    AuditEvent e = parse(line);
    assertThat(e.getEntity()).hasSize(51);
    assertThat(new String(e.getEntityFirstRep().getQuery(), StandardCharsets.UTF_8))
        .isEqualTo("Observation?code=http://loinc.org|8867-4&_count=50");
    assertThat(e.getEntityFirstRep().getRole().getCode()).isEqualTo("24");
    assertThat(e.getEntity().subList(1, 51)).allMatch(x -> x.getWhat().getReference().startsWith("Patient/pat-"));
  }
}
