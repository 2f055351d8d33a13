/**
 * A real HAPI FHIR JPA server (H2 in memory) as a second EPR for the integration tests, started once per run,
 * with a log of the requests that reached it.
 */
@NullMarked
package org.fhirwall.it.jpa;

import org.jspecify.annotations.NullMarked;
