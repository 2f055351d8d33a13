/** Health, readiness, metrics and the operator API (usage, locks). Served on the admin port only. */
@NullMarked
package org.fhirwall.admin;

import org.jspecify.annotations.NullMarked;
