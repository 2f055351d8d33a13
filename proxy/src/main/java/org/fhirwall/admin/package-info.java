/**
 * Health, readiness and the operator API (locks), served on the admin listener only.
 *
 * <p>Owns: what an operator or a platform probe may ask of a running fhirwall. Must never: listen
 * on the public port, answer the lock API without an operator's credential, or carry patient data.
 */
@NullMarked
package org.fhirwall.admin;

import org.jspecify.annotations.NullMarked;
