package org.fhirwall.demo;

import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.IdType;
import org.jspecify.annotations.Nullable;

/**
 * The demo store's tables, one per resource type, and the lookups its reads share. Not
 * thread-safe on its own: read under the store's lock.
 */
record Tables(Map<String, TypeTable> byType) {
  /** The table of {@code type}; 400 for a type this store does not serve. */
  TypeTable table(String type) {
    TypeTable table = byType.get(type);
    if (table == null) {
      throw new InvalidRequestException("Unknown resource type: " + type + " (expected one of: "
          + String.join(", ", byType.keySet()) + ")");
    }
    return table;
  }

  /** The live entry a reference key ({@code Type/id}) names; null when unknown, deleted or of an unknown type. */
  @Nullable StoredEntry liveEntry(String key) {
    int slash = key.indexOf('/');
    TypeTable table = slash < 0 ? null : byType.get(key.substring(0, slash));
    return table == null ? null : table.liveEntry(key.substring(slash + 1));
  }

  /** The entry of {@code type/id}; 404 when never stored, 410 when deleted. */
  StoredEntry currentOrThrow(String type, String id) {
    StoredEntry entry = table(type).byId.get(id);
    if (entry == null) {
      throw new ResourceNotFoundException(new IdType(type, id));
    }
    if (entry.current().deleted()) {
      throw new ResourceGoneException("Resource " + type + "/" + id + " was deleted at version "
          + entry.current().version());
    }
    return entry;
  }

  /** The live entries of {@code table}, in creation order. */
  static List<StoredEntry> liveEntries(TypeTable table) {
    List<StoredEntry> live = new ArrayList<>(table.live());
    for (StoredEntry entry : table.ordered) {
      if (entry.live()) {
        live.add(entry);
      }
    }
    return live;
  }

  /** The entries of an index bucket, in creation order; none for an empty bucket. */
  static List<StoredEntry> sorted(@Nullable EntrySet entries) {
    return entries == null ? List.of() : entries.toList();
  }
}
