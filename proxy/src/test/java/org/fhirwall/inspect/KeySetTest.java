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

  @Test
  void aKeyAddedFromBytesIsTheKeyAddedAsAString() {
    KeySet fromBytes = new KeySet();
    KeySet fromStrings = new KeySet();
    Random random = new Random(7);
    String alphabet = "abcAB019-.Patient/";
    for (int size : new int[] {1, 3, 40, 3_000, 0, 12}) {
      for (int i = 0; i < size * 3; i++) {
        StringBuilder id = new StringBuilder();
        for (int n = random.nextInt(6); n > 0; n--) {
          id.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        // Sometimes the key arrives as a String first (a full URL), sometimes from the bytes first (the resource).
        byte[] body = ("{\"id\":\"" + id + "\"}").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        boolean asString = random.nextBoolean();
        boolean added = asString ? fromBytes.add("Patient/" + id) : fromBytes.addPrefixed("Patient/", body, 7, 7 + id.length());
        assertThat(added).as("%s", id).isEqualTo(fromStrings.add("Patient/" + id));
        assertThat(fromBytes.addPrefixed("Patient/", body, 7, 7 + id.length())).as("again %s", id).isFalse();
      }
      assertThat(fromBytes.toArray()).containsExactly(fromStrings.toArray());
      fromBytes.clear();
      fromStrings.clear();
    }
    // Same hash, other text: "Aa" and "BB" hash alike.
    fromBytes.add("Patient/Aa");
    assertThat(fromBytes.addPrefixed("Patient/", "BB".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 2)).isTrue();
    assertThat(fromBytes.addPrefixed("Patient/", "xAa".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 1, 3)).isFalse();
    assertThat(fromBytes.toArray()).containsExactly("Patient/Aa", "Patient/BB");
  }

  @Test
  void theSetHandedOverHoldsTheKeysAndStaysAsItWasWhateverTheKeySetDoesNext() {
    KeySet keys = new KeySet();
    Random random = new Random(11);
    for (int size : new int[] {0, 1, 2, 3, 17, 2_000, 5}) {
      Set<String> expected = new LinkedHashSet<>();
      for (int i = 0; i < size; i++) {
        String key = "Patient/" + random.nextInt(1_000_000);
        keys.add(key);
        expected.add(key);
      }
      Set<String> handed = keys.toSet();
      keys.clear();
      for (int i = 0; i < 50; i++) {
        keys.add("Patient/later" + i); // the next walk's keys: none of them in the set handed over
      }
      assertThat(handed).isEqualTo(expected).hasSameHashCodeAs(expected).hasSize(expected.size())
          .containsExactlyInAnyOrderElementsOf(expected).doesNotContain("Patient/later0", "Patient/").isEqualTo(Set.copyOf(expected));
      assertThat(handed.contains(42)).isFalse();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> handed.add("Patient/x")).isInstanceOf(UnsupportedOperationException.class);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> handed.clear()).isInstanceOf(UnsupportedOperationException.class);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> handed.iterator().remove()).isInstanceOf(UnsupportedOperationException.class);
      // Inspection.Read keeps such a set as it is (a copy of anything else).
      Inspection.Read read = new Inspection.Read(new byte[0], handed, List.of(), Set.of(), 0, null);
      assertThat(read.patients()).isEqualTo(expected);
      if (size > 2) {
        assertThat(read.patients()).isSameAs(handed);
      }
      keys.clear();
    }
  }
}
