/** The picocli verbs: serve, demo, validate, locks. */
@NullMarked
package org.fhirwall.cli;

import org.jspecify.annotations.NullMarked;
