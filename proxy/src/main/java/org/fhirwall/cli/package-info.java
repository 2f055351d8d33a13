/**
 * The picocli verbs: {@code serve}, {@code demo}, {@code validate}, {@code locks}, {@code audit verify}. The demo is not
 * part of the product: the {@code demo} verb finds {@code fhirwall-demo.jar}
 * ({@link org.fhirwall.cli.DemoJar}) and runs the {@link org.fhirwall.cli.Demo} it registers.
 *
 * <p>Owns: the command-line contract (verbs, flags, exit codes). Must never: hold a stage's rules
 * (no stage imports it), reference the demo's classes, or put Jetty, hapi-fhir-server or Spring on
 * the product's class path.
 */
@NullMarked
package org.fhirwall.cli;

import org.jspecify.annotations.NullMarked;
