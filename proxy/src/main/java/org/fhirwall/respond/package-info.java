/**
 * Turns outcomes into HTTP answers, as plain values: refusals into a status, an OperationOutcome
 * and their headers ({@code WWW-Authenticate}, {@code Retry-After}) — the one place that maps a
 * kind of refusal to a status; released EPR answers into what the client may see (links rewritten
 * to fhirwall, the client's projection applied after counting, entries of types the role may not
 * read removed, a resolved count reduced to its total, the client's format, the response-header
 * allow-list).
 *
 * <p>Owns: what the client receives. Must never: decide anything (what may be released was decided
 * before), show the EPR's address, or use Netty types (the {@code server} writes an
 * {@link Answer} out).
 */
@NullMarked
package org.fhirwall.respond;

import org.jspecify.annotations.NullMarked;
