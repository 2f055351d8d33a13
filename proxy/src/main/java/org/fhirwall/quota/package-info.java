/** Distinct-patient windows, locks and rates per principal, behind one store interface. Never counts a patient twice in one window; never fails open. */
@NullMarked
package org.fhirwall.quota;

import org.jspecify.annotations.NullMarked;
