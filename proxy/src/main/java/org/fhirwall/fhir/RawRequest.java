package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP request exactly as received, before any FHIR meaning is given to it.
 *
 * <p>{@code target} is the raw request-target of the request line (origin-form expected);
 * header names keep their case and order, duplicates included. The body is owned by this value
 * and must not be modified.
 */
public record RawRequest(String method, String target, List<Header> headers, byte[] body) {

  /** One header line as received. */
  public record Header(String name, String value) {
    public Header {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
    }
  }

  public RawRequest {
    requireNonNull(method, "method");
    requireNonNull(target, "target");
    headers = List.copyOf(headers);
    requireNonNull(body, "body");
  }

  /** All values of the named header (case-insensitive name), in order received. */
  public List<String> all(String name) {
    List<String> values = null;
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        if (values == null) {
          values = new ArrayList<>(2);
        }
        values.add(h.value());
      }
    }
    return values == null ? List.of() : values;
  }

  /** The first value of the named header, or null when absent. */
  public @Nullable String first(String name) {
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        return h.value();
      }
    }
    return null;
  }
}
