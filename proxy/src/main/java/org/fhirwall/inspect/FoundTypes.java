package org.fhirwall.inspect;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The resource types a walk found: the first 16 as their {@link WalkModel#types} codes (ints, so
 * that a type found costs no reference store into this long-lived scratch: G1's write barrier), the
 * others in {@link #moreTypes}. Scratch of one {@link JsonWalk}, emptied by {@link #clear()} after
 * each walk.
 */
final class FoundTypes {
  private final String[] typeNames;
  private final int[] types = new int[16];
  private int typeCount;
  private final HashSet<String> moreTypes = new HashSet<>();

  /** {@code typeNames}: the type of each code ({@link WalkModel#typeNames}). */
  FoundTypes(String[] typeNames) {
    this.typeNames = typeNames;
  }

  /** Adds the type of {@code code} (not 0). */
  void add(int code) {
    for (int i = 0; i < typeCount; i++) {
      if (types[i] == code) {
        return;
      }
    }
    if (typeCount < types.length) {
      types[typeCount++] = code;
    } else {
      moreTypes.add(typeNames[code]);
    }
  }

  /** Adds {@code type}, whose code is {@code code} (0 for a type without one). */
  void add(String type, int code) {
    if (code != 0 && typeNames[code].equals(type)) {
      add(code);
      return;
    }
    moreTypes.add(type);
  }

  /** The types found, as an immutable set. */
  Set<String> toSet() {
    if (moreTypes.isEmpty()) {
      return switch (typeCount) {
        case 0 -> Set.of();
        case 1 -> Set.of(typeNames[types[0]]);
        case 2 -> Set.of(typeNames[types[0]], typeNames[types[1]]);
        default -> Set.of(names());
      };
    }
    Set<String> all = new HashSet<>(moreTypes);
    all.addAll(Arrays.asList(names()));
    return Set.copyOf(all);
  }

  private String[] names() {
    String[] names = new String[typeCount];
    for (int i = 0; i < typeCount; i++) {
      names[i] = typeNames[types[i]];
    }
    return names;
  }

  void clear() {
    typeCount = 0;
    moreTypes.clear();
  }
}
