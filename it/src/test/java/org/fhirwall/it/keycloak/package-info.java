/**
 * A real Keycloak for the identity integration tests: {@link org.fhirwall.it.keycloak.KeycloakServer}
 * starts the distribution Maven unpacked (once per test run, through {@link
 * org.fhirwall.it.keycloak.KeycloakExtension}) with the shipped {@code fhirwall} realm plus the test
 * users of {@link org.fhirwall.it.keycloak.TestRealm} and, as docker/compose.yaml imports it, the
 * walkthrough's user, and obtains tokens the way real clients do.
 */
@NullMarked
package org.fhirwall.it.keycloak;

import org.jspecify.annotations.NullMarked;
