/**
 * The deployment kit in docker/ run through real processes, since there is no Docker engine here:
 * the image's entrypoint and health check as commands, the compose file's Keycloak import and
 * health check against the real Keycloak, the walkthrough's scripts (seed, secrets, login, TLS
 * certificates), HAProxy's configuration in the real haproxy, and the walkthrough step by step.
 */
@NullMarked
package org.fhirwall.it.docker;

import org.jspecify.annotations.NullMarked;
