package org.fhirwall.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.auth.Principal;
import org.fhirwall.quota.PatientWindow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The metrics are counted from the audit records on their way to the sinks, which get every record unchanged. */
class RequestMetricsTest {
  static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");
  final Metrics metrics = new Metrics();
  final List<AuditRecord> written = new ArrayList<>();
  final AuditSink sink = new AuditSink() {
    @Override
    public void write(AuditRecord record) {
      written.add(record);
    }

    @Override
    public long dropped() {
      return 3;
    }

    @Override
    public void close() {
    }
  };
  final RequestMetrics metered = new RequestMetrics(sink, metrics.registry(),
      role -> role.equals("ward") ? Optional.of(List.of(PatientWindow.of(Duration.ofHours(1), 10))) : Optional.empty(), false);

  @AfterEach
  void close() {
    metrics.close();
  }

  static Principal alice() {
    return new Principal(Principal.Kind.USER, "https://idp", "alice", "alice", "web", Set.of("ward"), null, Set.of("otp"),
        NOW, "sid", Set.of(), null, NOW.plusSeconds(60), "jti");
  }

  static AuditRecord decision(AuditRecord.Outcome outcome, int status, String rule, int newPatients, int used) {
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "r" + used, outcome, status, alice(), "ward", "enforce", "GET",
        "read", "Patient", null, "Patient/1", newPatients > 0 ? List.of("Patient/1") : List.of(), newPatients,
        Map.of("1h", used), rule, "", List.of(), null, "127.0.0.1", null, 12_000);
  }

  @Test
  void everyRecordIsCountedAndForwardedUnchanged() {
    AuditRecord allowed = decision(AuditRecord.Outcome.ALLOWED, 200, null, 1, 9);
    metered.write(allowed);
    metered.write(decision(AuditRecord.Outcome.THROTTLED, 429, "patient-limit:1h", 0, 9));
    metered.write(AuditRecord.unlock(NOW, "https://idp|alice", "bob", "10.0.0.1"));
    assertThat(written).hasSize(3).first().isSameAs(allowed);
    String scrape = metrics.scrape();
    assertThat(scrape).contains("fhirwall_requests_total{interaction=\"read\",outcome=\"allowed\",rule=\"\",status=\"200\"} 1.0")
        .contains("fhirwall_requests_total{interaction=\"read\",outcome=\"throttled\",rule=\"patient-limit\",status=\"429\"} 1.0")
        .contains("fhirwall_patients_disclosed_total{role=\"ward\"} 1.0")
        .contains("fhirwall_unlocks_total 1.0")
        .contains("fhirwall_principals_near_limit 1.0")
        .contains("fhirwall_audit_dropped 3.0")
        .contains("fhirwall_request_duration_seconds_bucket");
    assertThat(scrape).doesNotContain("alice").doesNotContain("Patient/1");
  }

  @Test
  void aPrincipalFarFromItsLimitIsNotNearIt() {
    metered.write(decision(AuditRecord.Outcome.ALLOWED, 200, null, 1, 2));
    assertThat(metrics.scrape()).contains("fhirwall_principals_near_limit 0.0");
  }
}
