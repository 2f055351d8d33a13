/**
 * Distinct-patient windows, locks, request rates and the signals (id walk, EPR failures) per
 * principal, behind one store interface; {@link org.fhirwall.quota.Enforcement} is what the
 * sequencer asks.
 *
 * <p>Owns: how much a principal has seen and may still see. Must never: count a patient twice in
 * one window, release at a limit, or fail open (a store that cannot answer means a refusal).
 */
@NullMarked
package org.fhirwall.quota;

import org.jspecify.annotations.NullMarked;
