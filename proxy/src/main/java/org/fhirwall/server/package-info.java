/**
 * Netty bootstrap, the public pipeline (TLS, HTTP codec, connection cap, deadlines, framing), the
 * admin listener, and the one class that runs a request's stages in order
 * ({@link org.fhirwall.server.Exchange}).
 *
 * <p>Owns: the order of the stages and the bytes on the wire. Must never: block an event loop,
 * hold a stage's business rules, or read a request body before its sender's token is verified.
 */
@NullMarked
package org.fhirwall.server;

import org.jspecify.annotations.NullMarked;
