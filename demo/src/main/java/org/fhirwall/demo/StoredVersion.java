package org.fhirwall.demo;

import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntrySearchModeEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ResourceFactory;
import org.jspecify.annotations.Nullable;

/**
 * One version of one resource as the store keeps it. Immutable by convention: {@code resource}
 * is never modified after the version is created, so it may be copied without a lock; everything
 * that leaves the store is a copy ({@link #copy()}).
 *
 * @param resource the content, or null when this version records a deletion
 * @param keys the search-index values of this version, by parameter name (empty when deleted)
 */
record StoredVersion(String type, String id, long version, Instant lastUpdated, @Nullable Resource resource,
    Map<String, List<String>> keys) {

  boolean deleted() {
    return resource == null;
  }

  /** {@code Type/id}, the key references use. */
  String key() {
    return type + "/" + id;
  }

  IdType versionedId() {
    return new IdType(type, id, Long.toString(version));
  }

  /** A deep copy of the content; for a deletion, an empty resource carrying the versioned id. */
  Resource copy() {
    if (resource != null) {
      return resource.copy();
    }
    Resource stub = ResourceFactory.createResource(type);
    stub.setIdElement(versionedId());
    stub.getMeta().setVersionId(Long.toString(version)).setLastUpdated(java.util.Date.from(lastUpdated));
    return stub;
  }

  /** A copy marked as a search match or include for HAPI's bundle factory. */
  Resource copyForSearch(BundleEntrySearchModeEnum mode) {
    Resource copy = copy();
    ResourceMetadataKeyEnum.ENTRY_SEARCH_MODE.put(copy, mode);
    return copy;
  }

  /** A copy marked with the interaction that produced it, for a history bundle. */
  Resource copyForHistory() {
    Resource copy = copy();
    BundleEntryTransactionMethodEnum method = deleted() ? BundleEntryTransactionMethodEnum.DELETE
        : version == 1 ? BundleEntryTransactionMethodEnum.POST : BundleEntryTransactionMethodEnum.PUT;
    ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.put(copy, method);
    return copy;
  }
}
