package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The at-limit hold (at-limit: refuse; the {@code counted} role, 25 patients an hour) on two replicas sharing one Redis
 * (adversarial probe 11): a window filled, or an answer refused over the limit, through one replica holds the principal
 * on the other too, before the EPR is asked.
 */
@ExtendWith(LeakWatch.class)
class HeldAcrossReplicasIT extends TwoReplicas {
  static final int LIMIT = 25;

  HeldAcrossReplicasIT() {
    super(200);
  }

  /** The replica's audit file says {@code rule} within 10 s (records are written off the request path). */
  static void auditSays(Replicas.Replica r, String rule) throws Exception {
    long until = System.nanoTime() + 10_000_000_000L;
    while (!Files.readString(r.audit()).contains(rule) && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(Files.readString(r.audit())).contains(rule);
  }

  static String ids(int from, int n) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add("p" + i);
    }
    return String.join(",", out);
  }

  @Test
  void aWindowFilledOnOneReplicaHoldsThePrincipalOnTheOther() throws Exception {
    String token = cluster.token("held-full", "counted");
    HttpResponse<String> fill = cluster.get(a, "Patient?_id=" + ids(1, LIMIT) + "&_count=" + LIMIT, token);
    assertThat(fill.statusCode()).as(fill.body()).isEqualTo(200);
    HttpResponse<String> guess = cluster.get(b, "Patient?identifier=urn:x%7C1&birthdate=ge1950", token);
    ItEnvironment.assertOperationOutcome(guess, 429);
    assertThat(guess.body()).contains("only requests that name patients already counted");
    auditSays(b, "held:patient-limit:1h");
    HttpResponse<String> known = cluster.get(b, "Patient/p3", token);
    assertThat(known.statusCode()).as("counted: " + known.body()).isEqualTo(200);
  }

  @Test
  void anAnswerRefusedOnOneReplicaHoldsThePrincipalOnTheOther() throws Exception {
    String token = cluster.token("held-refused", "counted");
    HttpResponse<String> fill = cluster.get(a, "Patient?_id=" + ids(101, LIMIT - 1), token);
    assertThat(fill.statusCode()).as(fill.body()).isEqualTo(200);
    HttpResponse<String> over = cluster.get(a, "Patient?_id=p150,p151", token);
    ItEnvironment.assertOperationOutcome(over, 429);
    HttpResponse<String> guess = cluster.get(b, "Patient?identifier=urn:x%7C1&birthdate=ge1950", token);
    ItEnvironment.assertOperationOutcome(guess, 429);
    auditSays(b, "held:refused-over-limit");
  }

  /**
   * Requests under way when the last place goes: with one place left, {@code n} searches sent at once to both replicas,
   * each of which finds one patient not counted, are let through the hold (the window is not full when each is
   * checked). One fits and is charged; each other answer comes when the window is full and is held as a request is
   * before the EPR, whatever it holds (the hold asked again in the charge's own step, in Redis). Before, each of them
   * was refused over the limit and told, uncharged, that its search found someone (31 of 32 in three runs).
   */
  @Test
  void concurrentSearchesAtTheLastPlaceTellAtMostOneThingEach() throws Exception {
    String token = cluster.token("held-concurrent", "counted");
    HttpResponse<String> fill = cluster.get(a, "Patient?_id=" + ids(51, LIMIT - 1), token);
    assertThat(fill.statusCode()).as(fill.body()).isEqualTo(200);
    int n = 32;
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Replicas.Replica r = i % 2 == 0 ? a : b;
        String path = "Patient?identifier=" + AtLimitHoldProbeJpaIT.mrn(160 + i); // names nobody: found or not
        answers.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
            return cluster.get(r, path, token);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, pool));
      }
      go.countDown();
      int ok = 0;
      int overLimit = 0;
      int held = 0;
      List<String> other = new ArrayList<>();
      for (CompletableFuture<HttpResponse<String>> f : answers) {
        HttpResponse<String> r = f.get();
        if (r.statusCode() == 200) {
          ok++;
        } else if (r.body().contains("only requests that name patients already counted")) {
          held++;
        } else if (r.statusCode() == 429 && r.body().contains("distinct patients")) {
          overLimit++;
        } else {
          other.add(r.statusCode() + " " + r.body());
        }
      }
      System.out.printf("concurrency at the last place: %d at once: %d answered, %d refused over the limit "
          + "(each a free 'found someone'), %d held%n", n, ok, overLimit, held);
      assertThat(other).as("every answer is one of the three").isEmpty();
      assertThat(ok).as("one place").isLessThanOrEqualTo(1);
      assertThat(overLimit).as("an answer coming when the window is full is held, whatever it holds").isZero();
      assertThat(held).isEqualTo(n - ok);
    } finally {
      pool.shutdownNow();
    }
  }
}
