/**
 * The picocli verbs: {@code serve}, {@code demo}, {@code validate}, {@code locks}.
 *
 * <p>Owns: the command-line contract (verbs, flags, exit codes). Must never: hold a stage's rules;
 * no stage imports it.
 */
@NullMarked
package org.fhirwall.cli;

import org.jspecify.annotations.NullMarked;
