package org.fhirwall.demo;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything the store holds for one resource type: entries by id, in creation order, the
 * search indexes over the current versions, and the type's history. Not thread-safe: the
 * {@link DemoStore} guards it with its lock.
 *
 * <p>Index layout, per parameter name: {@code STRING} values case- and accent-folded under the
 * name and verbatim under {@code name:exact}; {@code TOKEN} {@code system|code} under
 * {@code code}, {@code system|code}, {@code system|} and, without a system, {@code |code};
 * {@code DATE} and {@code REFERENCE} values as they are.
 */
final class TypeTable {

  private static final Pattern MARKS = Pattern.compile("\\p{M}+");
  static final String EXACT = ":exact";

  final String type;
  final String idPrefix;
  final Map<String, SearchParams.Def> params;
  final Map<String, StoredEntry> byId = new HashMap<>();
  final List<StoredEntry> ordered = new ArrayList<>();
  final List<StoredVersion> history = new ArrayList<>();
  private final Map<String, NavigableMap<String, EntrySet>> indexes = new HashMap<>();
  private int live;
  private long nextNumber = 1;

  TypeTable(String type, String idPrefix) {
    this.type = type;
    this.idPrefix = idPrefix;
    this.params = SearchParams.of(type);
  }

  int live() {
    return live;
  }

  /** An id of this type's plain form that no entry has, for a server-assigned create. */
  String nextFreeId() {
    String id;
    do {
      id = idPrefix + nextNumber++;
    } while (byId.containsKey(id));
    return id;
  }

  /** The index of one parameter (or {@code name:exact}); empty when nothing is indexed under it. */
  NavigableMap<String, EntrySet> index(String name) {
    NavigableMap<String, EntrySet> index = indexes.get(name);
    return index == null ? Collections.emptyNavigableMap() : index;
  }

  @Nullable StoredEntry liveEntry(String id) {
    StoredEntry entry = byId.get(id);
    return entry != null && entry.live() ? entry : null;
  }

  void add(StoredVersion version) {
    if (version.deleted()) {
      return;
    }
    live++;
    StoredEntry entry = byId.get(version.id());
    for (Map.Entry<String, List<String>> keyed : version.keys().entrySet()) {
      SearchParams.Def def = params.get(keyed.getKey());
      for (String value : keyed.getValue()) {
        for (IndexKey key : keysOf(def, value)) {
          indexes.computeIfAbsent(key.index(), k -> new TreeMap<>())
              .computeIfAbsent(key.key(), k -> new EntrySet()).add(entry);
        }
      }
    }
  }

  void remove(StoredVersion version) {
    if (version.deleted()) {
      return;
    }
    live--;
    StoredEntry entry = byId.get(version.id());
    for (Map.Entry<String, List<String>> keyed : version.keys().entrySet()) {
      SearchParams.Def def = params.get(keyed.getKey());
      for (String value : keyed.getValue()) {
        for (IndexKey key : keysOf(def, value)) {
          NavigableMap<String, EntrySet> index = indexes.get(key.index());
          EntrySet entries = index == null ? null : index.get(key.key());
          if (entries != null) {
            entries.remove(entry);
            if (entries.isEmpty()) {
              index.remove(key.key());
            }
          }
        }
      }
    }
  }

  /** Case- and accent-insensitive form of a string value, as string searches compare it. */
  static String fold(String value) {
    String decomposed = Normalizer.normalize(value, Normalizer.Form.NFD);
    return MARKS.matcher(decomposed).replaceAll("").toLowerCase(Locale.ROOT);
  }

  private record IndexKey(String index, String key) {}

  private static List<IndexKey> keysOf(SearchParams.Def def, String value) {
    String name = def.name();
    switch (def.kind()) {
      case STRING:
        return List.of(new IndexKey(name, fold(value)), new IndexKey(name + EXACT, value));
      case TOKEN: {
        int bar = value.indexOf('|');
        String system = value.substring(0, bar);
        String code = value.substring(bar + 1);
        if (system.isEmpty()) {
          return List.of(new IndexKey(name, code), new IndexKey(name, "|" + code));
        }
        return List.of(new IndexKey(name, code), new IndexKey(name, value), new IndexKey(name, system + "|"));
      }
      case DATE:
      case REFERENCE:
        return List.of(new IndexKey(name, value));
    }
    throw new IllegalStateException("unknown kind " + def.kind());
  }
}
