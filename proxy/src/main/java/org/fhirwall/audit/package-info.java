/**
 * The audit trail: one record per decision (a FHIR AuditEvent in the IHE BALP shape), built from
 * the request's {@link org.fhirwall.audit.Trail}; alarms (locks, limits, break-glass, signals)
 * and the sinks that write records and alerts off the request path.
 *
 * <p>Owns: what is recorded and who is told. Must never: block the request path, record a token
 * or clinical content, or lose an accepted record on orderly shutdown.
 */
@NullMarked
package org.fhirwall.audit;

import org.jspecify.annotations.NullMarked;
