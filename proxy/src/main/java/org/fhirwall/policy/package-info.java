/**
 * The immutable policy model ({@link org.fhirwall.policy.RolePolicy}, {@link org.fhirwall.policy.PolicySet})
 * and the decision for one request ({@link org.fhirwall.policy.PolicyEngine}): a plain
 * {@link org.fhirwall.policy.Decision} ({@code Allow} with the windows to charge, or {@code Deny}
 * with its rule and kind), never an HTTP status. Role files are read and reloaded by
 * {@code org.fhirwall.config}, which this package never imports.
 *
 * <p>Owns: may this principal, authenticated this strongly, do this. Must never: do I/O during a
 * decision, decide on the EPR's data (a forbidden request for a missing record and for an existing
 * one get the same refusal), or allow by default. The one exception is
 * {@link org.fhirwall.policy.LaunchContextRecords}: under a launch context, an update or delete by id
 * is judged on fhirwall's own read of the record it replaces (another patient's is refused, a missing
 * one is not), for the EPR would otherwise write before anything could be judged.
 */
@NullMarked
package org.fhirwall.policy;

import org.jspecify.annotations.NullMarked;
