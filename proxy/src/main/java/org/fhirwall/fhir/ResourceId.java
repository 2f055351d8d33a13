package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

/** A resource's type and logical id, e.g. {@code Patient/123}. Both parts are canonical. */
public record ResourceId(String type, String id) {
  public ResourceId {
    requireNonNull(type, "type");
    requireNonNull(id, "id");
  }

  @Override
  public String toString() {
    return type + "/" + id;
  }
}
