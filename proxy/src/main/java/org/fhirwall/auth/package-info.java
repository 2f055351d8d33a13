/** Bearer token to {@link org.fhirwall.auth.Principal}: JWS verification against the issuer's JWKS, introspection, MFA and step-up. No Netty types. */
@NullMarked
package org.fhirwall.auth;

import org.jspecify.annotations.NullMarked;
