/**
 * The demo: a HAPI FHIR server with synthetic patients, a loopback-only token issuer, and the
 * incident script. A module of its own (fhirwall-demo.jar), run by the product's {@code demo} verb
 * through {@link org.fhirwall.cli.Demo} ({@link org.fhirwall.demo.IncidentDemo}). No stage imports
 * this package; it must never listen beyond loopback nor be packed into the product.
 */
@NullMarked
package org.fhirwall.demo;

import org.jspecify.annotations.NullMarked;
