/** Netty bootstrap, pipeline, HTTP limits, and the one handler that runs a request's stages in order. */
@NullMarked
package org.fhirwall.server;

import org.jspecify.annotations.NullMarked;
