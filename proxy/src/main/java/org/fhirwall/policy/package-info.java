/**
 * The immutable policy model ({@link org.fhirwall.policy.RolePolicy}, {@link org.fhirwall.policy.PolicySet})
 * and the decision for one request ({@link org.fhirwall.policy.PolicyEngine}). Role files are read and
 * reloaded by {@code org.fhirwall.config}, which this package never imports. No I/O during a decision.
 */
@NullMarked
package org.fhirwall.policy;

import org.jspecify.annotations.NullMarked;
