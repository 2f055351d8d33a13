/**
 * The deployment file and the role policy files: their JSON Schemas (used at run time, shipped in
 * the jar), strict YAML with {@code file:line:column} for every problem, environment and flag
 * overrides, binding into immutable records, the cross-field rules a schema cannot state, and the
 * hot reload of role policies. The schemas are the one source of keys, defaults and per-key rules;
 * the README's and {@code docs/policy-rules.md}'s key tables are generated from them. Stages never
 * import this package; it must never let two sources of truth drift.
 */
@NullMarked
package org.fhirwall.config;

import org.jspecify.annotations.NullMarked;
