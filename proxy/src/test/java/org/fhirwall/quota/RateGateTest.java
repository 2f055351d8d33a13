package org.fhirwall.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RateGateTest {
  final RateGate gate = new RateGate(1000);

  @Test
  void aBurstAboveTheRateIsRefusedWithARetryTime() {
    RateLimit limit = new RateLimit(0.5, 3, 10);
    List<RateGate.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      RateGate.Entry e = gate.tryEnter("alice", limit);
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
    RateGate.Entry a = gate.tryEnter("bob", limit);
    RateGate.Entry b = gate.tryEnter("bob", limit);
    assertThat(gate.tryEnter("bob", limit)).isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(gate.tryEnter("carol", limit)).isInstanceOf(RateGate.Entry.Entered.class);
    ((RateGate.Entry.Entered) a).ticket().exit();
    ((RateGate.Entry.Entered) a).ticket().exit();
    assertThat(gate.tryEnter("bob", limit)).isInstanceOf(RateGate.Entry.Entered.class);
    assertThat(gate.tryEnter("bob", limit)).as("a double exit frees one slot only").isInstanceOf(RateGate.Entry.Refused.class);
    assertThat(b).isInstanceOf(RateGate.Entry.Entered.class);
  }
}
