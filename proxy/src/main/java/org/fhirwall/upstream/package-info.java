/** Pooled keep-alive connections to the EPR, timeouts, circuit breaker and bulkhead. Never retries a non-idempotent call. */
@NullMarked
package org.fhirwall.upstream;

import org.jspecify.annotations.NullMarked;
