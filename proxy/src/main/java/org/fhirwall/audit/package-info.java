/** One audit record per decision, written to sinks off the request path. */
@NullMarked
package org.fhirwall.audit;

import org.jspecify.annotations.NullMarked;
