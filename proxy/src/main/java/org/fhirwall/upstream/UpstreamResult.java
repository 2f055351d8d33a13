package org.fhirwall.upstream;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;

/** What came back from the EPR: a whole response, or why there is none. */
public sealed interface UpstreamResult {

  /**
   * A complete response. The receiver owns {@code body} and must release it exactly once.
   */
  record Response(int status, HttpHeaders headers, ByteBuf body) implements UpstreamResult {
    public Response {
      requireNonNull(headers, "headers");
      requireNonNull(body, "body");
    }
  }

  /** No usable response; {@code detail} is for logs and audit (no patient data). */
  record Failure(Kind kind, String detail) implements UpstreamResult {
    public Failure {
      requireNonNull(kind, "kind");
      requireNonNull(detail, "detail");
    }
  }

  /** Why there is no response, each with the status fhirwall answers with. */
  enum Kind {
    /** Could not connect (refused, unreachable, connect timeout). */
    UNREACHABLE(502),
    /** Connected but no complete response in time. */
    TIMEOUT(504),
    /** The breaker is open after repeated failures. */
    CIRCUIT_OPEN(503),
    /** Too many requests in flight to the EPR. */
    BUSY(503),
    /** The response is larger than the configured maximum. */
    TOO_LARGE(502),
    /** The connection broke or the EPR spoke broken HTTP. */
    PROTOCOL(502);

    private final int status;

    Kind(int status) {
      this.status = status;
    }

    public int status() {
      return status;
    }
  }
}
