/**
 * The audit trail: one record per decision (a FHIR AuditEvent in the IHE BALP shape), built from
 * the request's {@link org.fhirwall.audit.Trail}; alarms (locks, limits, break-glass, signals)
 * and the sinks that write records and alerts off the request path: {@link org.fhirwall.audit.AuditTrail},
 * the batching writer to the hash-chained file, standard output, syslog over TLS and a FHIR audit
 * repository at once, with spools for destinations that fail; {@link org.fhirwall.audit.AuditVerifier}
 * checks the file's chain and signed checkpoints.
 *
 * <p>Owns: what is recorded and who is told. Must never: block the request path, record a token
 * or clinical content, or lose an accepted record on orderly shutdown.
 */
@NullMarked
package org.fhirwall.audit;

import org.jspecify.annotations.NullMarked;
