package org.fhirwall.server;

import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.fhirwall.fhir.RawRequest;

/** The facts of a request's arrival the stages need, read from Netty's types: its id, its sender, its raw form. */
final class RequestIds {
  private RequestIds() {}

  /** A new request id: 32 hex characters, returned to the client as {@code X-Request-Id}. */
  static String next() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
  }

  /** The client's IP address. */
  static String address(SocketAddress a) {
    if (a instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress();
    }
    return String.valueOf(a);
  }

  /** The request as received: head and whole body, for the {@code fhir} stage. */
  static RawRequest raw(HttpRequest head, byte[] body) {
    List<RawRequest.Header> headers = new ArrayList<>(head.headers().size());
    for (Map.Entry<String, String> e : head.headers()) {
      headers.add(new RawRequest.Header(e.getKey(), e.getValue()));
    }
    return new RawRequest(head.method().name(), head.uri(), headers, body);
  }
}
