package org.fhirwall.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import java.util.Map;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;

/**
 * Aggregates a request body up to the configured limit; a larger (chunked) body is answered with
 * a 413 OperationOutcome and the connection is closed, without reading the rest.
 */
final class BoundedAggregator extends HttpObjectAggregator {
  private final int maxBody;

  BoundedAggregator(int maxBody) {
    super(maxBody, true);
    this.maxBody = maxBody;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    Refusal r = new Refusal(413, IssueType.TOO_LONG,
        "Request body exceeds limits.max-request-body (" + maxBody + " bytes)", Map.of(), true);
    Responses.write(ctx, Responses.refusal(r, org.fhirwall.fhir.Format.JSON, null), false);
  }
}
