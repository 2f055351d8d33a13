package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import org.fhirwall.fhir.Refusal;

/**
 * A request the edge refuses ({@link FramingGuard}: framing it cannot trust), handed on in the connection's order so
 * that the refusal is written after the answers of the requests before it (RFC 9112 section 9.3.2: answers in the
 * order of their requests), then the connection is closed. Nothing after it on the connection is read as a request.
 */
record EdgeRefusal(Refusal refusal, String uri) {
  EdgeRefusal {
    requireNonNull(refusal, "refusal");
    requireNonNull(uri, "uri");
  }

  /** Writes the refusal (the connection closes once it is written) and reads on, to drop what else the client sends. */
  void write(ChannelHandlerContext ctx) {
    Responses.refuse(ctx, refusal, uri);
    ctx.channel().config().setAutoRead(true);
  }
}
