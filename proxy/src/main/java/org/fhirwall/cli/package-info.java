/**
 * The picocli verbs: serve, demo, validate, locks. The demo is not part of the product: the
 * {@code demo} verb finds {@code fhirwall-demo.jar} ({@link org.fhirwall.cli.DemoJar}) and runs the
 * {@link org.fhirwall.cli.Demo} it registers. Must never reference the demo's classes, nor put
 * Jetty, hapi-fhir-server or Spring on the product's class path.
 */
@NullMarked
package org.fhirwall.cli;

import org.jspecify.annotations.NullMarked;
