/**
 * Turns an HTTP request into a {@link org.fhirwall.fhir.FhirRequest}: classification, canonical
 * form, fhirwall's own paging links, and the one model of which patients a request names
 * (patient-compartment knowledge from HAPI FHIR).
 *
 * <p>Owns: what is asked. Must never: trust a path it cannot put in canonical form, let a
 * behaviour-switching header through, or use Netty types.
 */
@NullMarked
package org.fhirwall.fhir;

import org.jspecify.annotations.NullMarked;
