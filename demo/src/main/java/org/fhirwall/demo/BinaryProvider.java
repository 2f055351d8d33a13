package org.fhirwall.demo;

import org.hl7.fhir.r4.model.Binary;

/**
 * Binary: read, vread, create, update, delete and history; no search. A read without a FHIR
 * Accept header answers the raw content (HAPI's rule); with one, the Binary resource.
 */
final class BinaryProvider extends StoredResourceProvider<Binary> {

  BinaryProvider(DemoStore store) {
    super(store, Binary.class);
  }
}
