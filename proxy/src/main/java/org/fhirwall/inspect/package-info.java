/**
 * Reads an EPR answer (JSON, XML, NDJSON, gzip; Binary and attachment content) and names every
 * patient it discloses, from HAPI FHIR's compartment model.
 *
 * <p>Owns: which patients an answer shows. Must never: let an answer it could not read through be
 * released when it may carry patients (it is {@link org.fhirwall.inspect.Inspection.Unreadable}),
 * or under-count (an unresolvable owner reference counts as a patient of its own).
 */
@NullMarked
package org.fhirwall.inspect;

import org.jspecify.annotations.NullMarked;
