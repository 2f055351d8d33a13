/**
 * The immutable policy model of a role, and the decision for one request: a plain
 * {@link org.fhirwall.policy.Decision} ({@code Allow} with the windows to charge, or {@code Deny}
 * with its rule and kind), never an HTTP status.
 *
 * <p>Owns: may this principal, authenticated this strongly, do this. Must never: do I/O during a
 * decision, decide on the EPR's data (a forbidden request for a missing record and for an existing
 * one get the same refusal), or allow by default.
 */
@NullMarked
package org.fhirwall.policy;

import org.jspecify.annotations.NullMarked;
