/** Reads an upstream response and names every patient it discloses. Fails closed: an unreadable body that may carry patients is never released. */
@NullMarked
package org.fhirwall.inspect;

import org.jspecify.annotations.NullMarked;
