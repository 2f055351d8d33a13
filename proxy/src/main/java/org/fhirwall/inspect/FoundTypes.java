package org.fhirwall.inspect;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The resource types a walk found: the model's own Strings, so mostly told apart by identity, past
 * 16 in {@link #moreTypes}. Scratch of one {@link JsonWalk}, emptied by {@link #clear()} after each walk.
 */
final class FoundTypes {
  private final String[] types = new String[16];
  private int typeCount;
  private final HashSet<String> moreTypes = new HashSet<>();

  void add(String type) {
    for (int i = 0; i < typeCount; i++) {
      if (types[i] == type) {
        return;
      }
    }
    for (int i = 0; i < typeCount; i++) {
      if (types[i].equals(type)) {
        return;
      }
    }
    if (typeCount < types.length) {
      types[typeCount++] = type;
    } else {
      moreTypes.add(type);
    }
  }

  /** The types found, as an immutable set. */
  Set<String> toSet() {
    if (moreTypes.isEmpty()) {
      return switch (typeCount) {
        case 0 -> Set.of();
        case 1 -> Set.of(types[0]);
        case 2 -> Set.of(types[0], types[1]);
        default -> Set.of(Arrays.copyOf(types, typeCount));
      };
    }
    Set<String> all = new HashSet<>(moreTypes);
    all.addAll(Arrays.asList(types));
    return Set.copyOf(all);
  }

  void clear() {
    Arrays.fill(types, 0, typeCount, null);
    typeCount = 0;
    moreTypes.clear();
  }
}
