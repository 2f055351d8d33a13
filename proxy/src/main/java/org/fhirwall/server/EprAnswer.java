package org.fhirwall.server;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;

/** What the EPR answered, copied out of Netty's buffer (which {@link #of} releases). */
record EprAnswer(int status, List<Map.Entry<String, String>> headers, @Nullable String contentType,
    @Nullable String contentEncoding, byte[] body) {

  /** The first value of header {@code name} (any case), null when absent. */
  @Nullable String header(String name) {
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().equalsIgnoreCase(name)) {
        return h.getValue();
      }
    }
    return null;
  }

  static EprAnswer of(UpstreamResult.Response r) {
    byte[] bytes;
    try {
      bytes = ByteBufUtil.getBytes(r.body());
    } finally {
      r.body().release();
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>(r.headers().size());
    r.headers().forEach(headers::add);
    return new EprAnswer(r.status(), headers, r.headers().get(HttpHeaderNames.CONTENT_TYPE),
        r.headers().get(HttpHeaderNames.CONTENT_ENCODING), bytes);
  }
}
