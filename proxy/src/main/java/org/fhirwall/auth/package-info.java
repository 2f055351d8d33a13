/**
 * Bearer token to {@link org.fhirwall.auth.Principal}: JWS verification against the issuer's JWKS,
 * introspection, MFA evidence and step-up challenges (RFC 9470), authentication requirements that
 * only add up.
 *
 * <p>Owns: who is asking and how strongly they proved it. Must never: accept a token it could not
 * fully verify, follow a key URL a token names, or use Netty types.
 */
@NullMarked
package org.fhirwall.auth;

import org.jspecify.annotations.NullMarked;
