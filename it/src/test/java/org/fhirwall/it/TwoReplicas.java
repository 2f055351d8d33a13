package org.fhirwall.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Two fhirwall replicas, {@link #a} and {@link #b}, sharing one Redis in front of one EPR ({@link Replicas}), with
 * {@code on-store-failure: deny} and a Redis timeout generous for counting (the machine is shared): started once for
 * the test class that extends this, stopped after its last test. The set-up of the tests that spread one principal's
 * requests over replicas ({@link ClusterIT}, {@link HeldAcrossReplicasIT}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TwoReplicas {
  private final int patients;
  Replicas cluster;
  Replicas.Replica a;
  Replicas.Replica b;

  /** {@code patients}: how many synthetic patients the EPR holds. */
  TwoReplicas(int patients) {
    this.patients = patients;
  }

  @BeforeAll
  void startReplicas() throws Exception {
    cluster = Replicas.start(patients);
    a = cluster.shared("a", "deny", "3s");
    b = cluster.shared("b", "deny", "3s");
  }

  @AfterAll
  void stopReplicas() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }
}
