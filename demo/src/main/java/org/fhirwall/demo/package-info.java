/** The demo: a HAPI FHIR server with synthetic patients, a loopback-only token issuer, and the incident script. No stage imports this package. */
@NullMarked
package org.fhirwall.demo;

import org.jspecify.annotations.NullMarked;
