/**
 * Pooled keep-alive connections to the EPR, timeouts, circuit breaker and bulkhead, and the
 * request fhirwall forwards (its own canonical form and forwarding headers).
 *
 * <p>Owns: talking to the EPR. Must never: retry a non-idempotent call, forward a client's raw
 * request, or block an event loop.
 */
@NullMarked
package org.fhirwall.upstream;

import org.jspecify.annotations.NullMarked;
