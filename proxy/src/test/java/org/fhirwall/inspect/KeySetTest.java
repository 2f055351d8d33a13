package org.fhirwall.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link KeySet} holds what a {@link LinkedHashSet} would, through growth and emptying, small and large. */
class KeySetTest {
  @Test
  void holdsTheDistinctKeysInTheirOrderAcrossGrowthAndEmptying() {
    KeySet keys = new KeySet();
    Random random = new Random(3);
    for (int size : new int[] {0, 1, 33, 5_000, 2, 20_000, 31, 0, 700}) {
      Set<String> expected = new LinkedHashSet<>();
      for (int i = 0; i < size * 2; i++) {
        String key = "Patient/" + random.nextInt(Math.max(1, size));
        assertThat(keys.add(key)).as("add %s", key).isEqualTo(expected.add(key));
      }
      assertThat(keys.size()).isEqualTo(expected.size());
      assertThat(keys.toArray()).containsExactly(expected.toArray(new String[0]));
      keys.clear();
      assertThat(keys.size()).isZero();
      assertThat(keys.toArray()).isEmpty();
    }
    keys.addAll(List.of("a", "b", "a"));
    assertThat(keys.toArray()).containsExactly("a", "b");
    List<String> same = new ArrayList<>(List.of("x", new String("x")));
    keys.addAll(same);
    assertThat(keys.toArray()).containsExactly("a", "b", "x");
  }
}
