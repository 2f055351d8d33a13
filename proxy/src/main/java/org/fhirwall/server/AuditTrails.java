package org.fhirwall.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditTrail;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.ReloadOutcome;

/** The audit trail as the deployment file asks for it, its metrics, and the record of a policy reload. */
final class AuditTrails {
  private AuditTrails() {}

  /** The audit writer: the file (chained, rotated, synced) and standard output, each when configured. */
  static AuditTrail auditTrail(DeploymentConfig.Audit audit, Clock clock) throws IOException {
    AuditTrail.FileSettings file = audit.file() == null ? null : new AuditTrail.FileSettings(audit.file(), audit.maxSize(),
        audit.rotateEvery(), audit.fsyncInterval(), audit.checkpointKey(), audit.checkpointRecords(), audit.checkpointEvery());
    OutputStream stdout = audit.stdout() ? new java.io.FilterOutputStream(System.out) {
      @Override
      public void close() throws IOException {
        flush();
      }
    } : null;
    DeploymentConfig.Syslog s = audit.syslog();
    AuditTrail.SyslogSettings syslog = s == null ? null
        : new AuditTrail.SyslogSettings(s.address().host(), s.address().port(), s.caFile(), s.timeout());
    DeploymentConfig.Repository r = audit.repository();
    AuditTrail.RepositorySettings repository = r == null ? null
        : new AuditTrail.RepositorySettings(r.url(), r.bearer(), r.timeout());
    AuditTrail.SpoolSettings spool = audit.spoolDir() == null ? null
        : new AuditTrail.SpoolSettings(audit.spoolDir(), audit.spoolMaxSize());
    return AuditTrail.open(file, stdout, syslog, repository, spool, audit.queue(),
        audit.onFailure().equals("refuse") ? AuditTrail.OnFailure.REFUSE : AuditTrail.OnFailure.ALARM, clock);
  }

  static void bindAuditMetrics(AuditTrail trail, MeterRegistry registry) {
    Gauge.builder("fhirwall.audit.queue", trail, AuditTrail::queueDepth)
        .description("Audit records waiting for the writer").register(registry);
    Gauge.builder("fhirwall.audit.owed", trail, AuditTrail::owed)
        .description("Audit records a failing destination still owes (held in memory, written when it recovers)")
        .register(registry);
    FunctionCounter.builder("fhirwall.audit.written", trail, AuditTrail::written)
        .description("Audit records the writer took and handed to its destinations").register(registry);
    FunctionCounter.builder("fhirwall.audit.sink.failures", trail, AuditTrail::failures)
        .description("Failed writes to an audit destination (each retried)").register(registry);
  }

  /** The audit record of a policy reload: what changed, every weakening, every problem. */
  static AuditRecord reloadRecord(java.time.Instant at, ReloadOutcome outcome) {
    if (outcome instanceof ReloadOutcome.Applied a) {
      return AuditRecord.policyReload(at, true, a.directory().toString(),
          "applied; added " + a.added() + ", removed " + a.removed() + ", changed " + a.changed()
              + (a.weakenings().isEmpty() ? "" : "; weakened (allowed by policy-reload.allow-weakening): " + a.weakenings()));
    }
    ReloadOutcome.Refused r = (ReloadOutcome.Refused) outcome;
    return AuditRecord.policyReload(at, false, r.directory().toString(), "refused, the policies in force stay: " + r.problems());
  }
}
