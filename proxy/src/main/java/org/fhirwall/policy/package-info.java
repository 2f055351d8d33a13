/** The immutable policy model, its YAML loading and validation, and the decision for one request. No I/O during a decision. */
@NullMarked
package org.fhirwall.policy;

import org.jspecify.annotations.NullMarked;
