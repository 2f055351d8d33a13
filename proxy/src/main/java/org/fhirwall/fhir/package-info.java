/** Turns an HTTP request into a {@link org.fhirwall.fhir.FhirRequest}: classification, canonical form, paging links, patient-compartment knowledge from HAPI FHIR. No Netty types. */
@NullMarked
package org.fhirwall.fhir;

import org.jspecify.annotations.NullMarked;
