package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RateGateTest {
  final RateGate gate = new RateGate(1000, 64);

  @Test
  void aBurstAboveTheRateIsRefusedWithARetryTime() {
    RateLimit limit = new RateLimit(0.5, 3, 10);
    List<RateGate.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      RateGate.Entry e = gate.tryEnter("alice", limit, 1);
      entries.add(e);
      if (e instanceof RateGate.Entry.Entered in) {
        in.ticket().exit();
      }
    }
    assertThat(entries).filteredOn(e -> e instanceof RateGate.Entry.Entered).hasSize(3);
    assertThat(entries.get(4)).isInstanceOfSatisfying(RateGate.Entry.Refused.class,
        r -> assertThat(r.retryAfter().toMillis()).isEqualTo(2000));
  }

  @Test
  void concurrencyIsPerPrincipalAndReleasedOnExit() {
    RateLimit limit = new RateLimit(1000, 1000, 2);
    RateGate.Entry a = gate.tryEnter("bob", limit, 1);
    RateGate.Entry b = gate.tryEnter("bob", limit, 1);
    assertThat(gate.tryEnter("bob", limit, 1)).isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(gate.tryEnter("carol", limit, 1)).isInstanceOf(RateGate.Entry.Entered.class);
    ((RateGate.Entry.Entered) a).ticket().exit();
    ((RateGate.Entry.Entered) a).ticket().exit();
    assertThat(gate.tryEnter("bob", limit, 1)).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(gate.tryEnter("bob", limit, 1)).as("a double exit frees one slot only").isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(b).isInstanceOf(RateGate.Entry.Entered.class);
  }

  @Test
  void eachEntryOfABundleCountsAgainstTheRate() {
    RateLimit limit = new RateLimit(1, 10, 10);
    RateGate.Entry batch = gate.tryEnter("dave", limit, 8);
    assertThat(batch).isInstanceOf(RateGate.Entry.Entered.class);
    ((RateGate.Entry.Entered) batch).ticket().exit();
    assertThat(gate.tryEnter("dave", limit, 3)).as("8 of the burst of 10 used").isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(gate.tryEnter("erin", limit, 11)).as("more entries than the burst can ever take")
        .isInstanceOfSatisfying(RateGate.Entry.Refused.class, r -> assertThat(r.reason()).contains("11 requests in one"));
  }

  @Test
  void noPrincipalTakesMoreThanItsShareOfTheEpr() {
    RateGate small = new RateGate(1000, 2);
    RateLimit generous = new RateLimit(1000, 1000, 50);
    assertThat(small.tryEnter("frank", generous, 1)).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(small.tryEnter("frank", generous, 1)).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(small.tryEnter("frank", generous, 1)).isInstanceOfSatisfying(RateGate.Entry.Refused.class,
        r -> assertThat(r.reason()).contains("more than 2 requests at once"));
  }
}
