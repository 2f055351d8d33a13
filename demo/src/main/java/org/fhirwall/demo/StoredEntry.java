package org.fhirwall.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * One resource (type and id) with all its versions, oldest first. Mutable, and only touched
 * under the {@link DemoStore}'s lock (written under the write lock). Identity equality: index
 * sets hold entries.
 */
final class StoredEntry {

  final String type;
  final String id;
  /** Creation order within the store, the order searches return. */
  final long seq;
  final List<StoredVersion> versions = new ArrayList<>(1);

  StoredEntry(String type, String id, long seq) {
    this.type = type;
    this.id = id;
    this.seq = seq;
  }

  StoredVersion current() {
    return versions.get(versions.size() - 1);
  }

  /** Cheap and stable (seq is unique); equality stays identity. */
  @Override
  public int hashCode() {
    return Long.hashCode(seq);
  }

  @Override
  public boolean equals(Object other) {
    return this == other;
  }

  boolean live() {
    return !versions.isEmpty() && !current().deleted();
  }
}
