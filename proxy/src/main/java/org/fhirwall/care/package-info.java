/**
 * Care relationships: which patients a principal's practitioner is in a care relationship with,
 * learned from the EPR itself through fhirwall's own FHIR searches ({@link
 * org.fhirwall.care.RelationshipSource}), so that the quota stage can charge the patients outside
 * those relationships to the role's tighter {@code unexplained-limits}.
 *
 * <p>Why a package of its own, beside {@code quota} and {@code policy} rather than inside them:
 * {@code policy} must never do I/O and {@code quota} counts what it is told; learning relationships
 * is I/O against the EPR (through the {@code upstream} client, with fhirwall's own credential) and a
 * cache with its own clock, and the result is a plain value ({@link
 * org.fhirwall.care.CareRelationships}) the sequencer hands to the charge. It never imports Netty:
 * the EPR is reached through {@link org.fhirwall.care.EprReader}, which {@code server} implements.
 *
 * <p>Owns: the practitioner behind a token, the relationships of that practitioner, their cache
 * and refresh, and which writes through fhirwall are relationship changes. Must never: take a
 * relationship from a client's request or from the response being inspected (only from its own
 * queries); count a relationship created or updated less than {@code write-delay} ago; answer
 * "explained" when the EPR could not be asked (fail closed: every patient is unexplained).
 */
@NullMarked
package org.fhirwall.care;

import org.jspecify.annotations.NullMarked;
