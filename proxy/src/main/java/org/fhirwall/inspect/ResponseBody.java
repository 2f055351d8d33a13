package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * An upstream response body as received: its bytes (owned by this value, not modified), and the
 * {@code Content-Type} and {@code Content-Encoding} headers that say how to read them.
 */
public record ResponseBody(byte[] bytes, @Nullable String contentType, @Nullable String contentEncoding) {
  public ResponseBody {
    requireNonNull(bytes, "bytes");
  }
}
