package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two fhirwall replicas sharing one Redis in front of one real EPR: spreading requests over them
 * gains an attacker nothing. Patients are counted from the bodies the clients received.
 */
@ExtendWith(LeakWatch.class)
class ClusterIT extends TwoReplicas {
  static final int LIMIT = 25;

  ClusterIT() {
    super(2000);
  }

  @Test
  void anAttackerAlternatingBetweenReplicasGetsExactlyTheRoleLimitAndIsLockedOnBoth() throws Exception {
    String token = cluster.token("alternating", "limited");
    Set<String> shown = new LinkedHashSet<>();
    // Four pages of a search, each page fetched from the other replica with the link the first one issued.
    HttpResponse<String> page = cluster.get(a, "Patient?_count=5", token);
    Replicas.Replica[] both = {a, b};
    for (int i = 0; i < 4; i++) {
      assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
      shown.addAll(Replicas.patientsIn(page.body()));
      if (i < 3) {
        page = cluster.get(both[(i + 1) % 2], Replicas.onReplica(Replicas.next(page.body()), both[(i + 1) % 2]), token);
      }
    }
    assertThat(shown).hasSize(20);
    // Then single reads, alternating, of patients not shown yet, until one is refused.
    List<String> others = cluster.store.samplePatientIds(60, 99).stream().filter(id -> !shown.contains(id)).toList();
    int refusedAt = -1;
    for (int i = 0; i < others.size(); i++) {
      HttpResponse<String> r = cluster.get(both[i % 2], "Patient/" + others.get(i), token);
      if (r.statusCode() == 429) {
        refusedAt = i;
        break;
      }
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      shown.addAll(Replicas.patientsIn(r.body()));
    }
    assertThat(shown).as("exactly the role's limit in total, over both replicas").hasSize(LIMIT);
    assertThat(refusedAt).isEqualTo(LIMIT - 20);
    for (Replicas.Replica r : both) {
      HttpResponse<String> locked = cluster.get(r, "Patient/" + shown.iterator().next(), token);
      assertThat(locked.statusCode()).as("locked on every replica").isEqualTo(429);
      assertThat(locked.body()).contains("locked");
      assertThat(cluster.locks(r)).contains("sub-alternating");
    }
  }

  @Test
  void aPagingLinkWorksOnTheOtherReplicaForItsOwnerOnly() throws Exception {
    String owner = cluster.token("pager", "counted");
    HttpResponse<String> first = cluster.get(a, "Patient?_count=3", owner);
    String link = Replicas.onReplica(Replicas.next(first.body()), b);
    assertThat(cluster.get(b, link, owner).statusCode()).isEqualTo(200);
    HttpResponse<String> stolen = cluster.get(b, link, cluster.token("thief", "counted"));
    assertThat(stolen.statusCode()).isEqualTo(403);
    assertThat(stolen.body()).contains("OperationOutcome");
  }

  @Test
  void fiftyConcurrentReadsAtTheEdgeOverBothReplicasNeverDiscloseMoreThanTheLimit() throws Exception {
    List<String> ids = cluster.store.samplePatientIds(1500, 5);
    ExecutorService pool = Executors.newFixedThreadPool(50);
    try {
      for (int round = 0; round < 20; round++) {
        String token = cluster.token("edge-" + round, "counted");
        List<String> mine = ids.subList(round * 70, round * 70 + 70);
        HttpResponse<String> warm = cluster.get(a, "Patient?_id=" + String.join(",", mine.subList(0, 20)), token);
        assertThat(Replicas.patientsIn(warm.body())).hasSize(20);
        Set<String> shown = ConcurrentHashMap.newKeySet();
        shown.addAll(Replicas.patientsIn(warm.body()));
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          Replicas.Replica r = i % 2 == 0 ? a : b;
          String id = mine.get(20 + i);
          reads.add(CompletableFuture.runAsync(() -> {
            try {
              go.await();
              HttpResponse<String> resp = cluster.get(r, "Patient/" + id, token);
              if (resp.statusCode() == 200) {
                shown.addAll(Replicas.patientsIn(resp.body()));
              } else {
                assertThat(resp.statusCode()).as(resp.body()).isEqualTo(429);
                refused.incrementAndGet();
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }, pool));
        }
        go.countDown();
        CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).join();
        assertThat(shown).as("round %d: never more than the limit, exactly the limit reached", round).hasSize(LIMIT);
        assertThat(refused.get()).isEqualTo(50 - (LIMIT - 20));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aReplicaRestartedMidAttackGivesTheAttackerNothing() throws Exception {
    String token = cluster.token("restarter", "limited");
    List<String> ids = cluster.store.samplePatientIds(80, 1234);
    HttpResponse<String> first = cluster.get(a, "Patient?_id=" + String.join(",", ids.subList(0, 15)) + "&_count=10", token);
    Set<String> shown = new LinkedHashSet<>(Replicas.patientsIn(first.body()));
    String link = Replicas.next(first.body());
    Replicas.Replica old = cluster.shared("restarted", "deny", "3s");
    HttpResponse<String> more = cluster.get(old, "Patient?_id=" + String.join(",", ids.subList(15, 20)), token);
    shown.addAll(Replicas.patientsIn(more.body()));
    cluster.stop(old);
    Replicas.Replica fresh = cluster.shared("restarted-again", "deny", "3s");
    HttpResponse<String> paged = cluster.get(fresh, Replicas.onReplica(link, fresh), token);
    assertThat(paged.statusCode()).as("a link issued before the restart still opens").isEqualTo(200);
    shown.addAll(Replicas.patientsIn(paged.body()));
    assertThat(shown).hasSize(20);
    for (int i = 20; i < ids.size(); i++) {
      HttpResponse<String> r = cluster.get(i % 2 == 0 ? fresh : b, "Patient/" + ids.get(i), token);
      if (r.statusCode() != 200) {
        assertThat(r.statusCode()).isEqualTo(429);
        break;
      }
      shown.addAll(Replicas.patientsIn(r.body()));
    }
    assertThat(shown).as("the restart forgot nothing").hasSize(LIMIT);
    assertThat(cluster.get(fresh, "Patient/" + ids.get(0), token).statusCode()).isEqualTo(429);
    cluster.stop(fresh);
  }
}
