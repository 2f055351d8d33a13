package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.it.jpa.JpaEprExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Policies reloaded live ({@code policyReloadMillis > 0}, as {@code serve} runs) while requests keep flowing, through
 * fhirwall to the run's HAPI FHIR JPA server: a lowered limit applies to the next request, a deleted role governs
 * nothing any more, and an invalid edit leaves the policies in force untouched. Every answer during the reloads is a
 * decision (200, 403 or 429), never a failure.
 */
@ExtendWith({JpaEprExtension.class, LeakWatch.class})
class PolicyReloadJpaIT {
  @TempDir Path policies;

  static String role(String name, String tokenRole, int limit) {
    return """
        role: %s
        applies-to: {roles: [%s]}
        priority: 100
        authentication: {amr: [otp]}
        interactions: [read, search-type]
        resource-types: [Patient, Observation]
        patient-limits: [{window: 1h, max: %d}]
        search: {max-count: %d}
        rate: {requests-per-second: 1000, burst: 1000, concurrent: 64}
        """.formatted(name, tokenRole, limit, Math.min(limit, 50));
  }

  /** Writes a policy file the way an editor or a config-management tool should: whole, then moved into place. */
  void write(String file, String text) throws Exception {
    Path tmp = Files.writeString(policies.resolve("." + file + ".tmp"), text, UTF_8);
    Files.move(tmp, policies.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Reload records in the audit trail: {@code applied} ones (outcome 0) or refused ones. */
  static long reloads(ItEnvironment it, boolean applied) throws Exception {
    return it.auditLines().stream().filter(l -> l.contains("\"policy_reload\""))
        .filter(l -> l.contains("\"outcome\":\"0\"") == applied).count();
  }

  static void awaitReload(ItEnvironment it, boolean applied, long before) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (reloads(it, applied) <= before) {
      assertThat(System.nanoTime()).as("a " + (applied ? "applied" : "refused") + " reload within 30 s").isLessThan(deadline);
      Thread.onSpinWait();
    }
  }

  /** Reads distinct patients until the first refusal; returns how many were answered. */
  static int readUntilRefused(ItEnvironment it, String token, List<String> ids) throws Exception {
    int ok = 0;
    for (String id : ids) {
      HttpResponse<String> r = it.get("Patient/" + id, token);
      if (r.statusCode() != 200) {
        ItEnvironment.assertOperationOutcome(r, 429);
        return ok;
      }
      ok++;
    }
    return ok;
  }

  @Test
  void aLoweredLimitADeletedRoleAndAnInvalidEditWhileRequestsFlow(JpaEpr epr) throws Exception {
    write("reload.yaml", role("it-reload", "reloader", 30));
    write("other.yaml", role("it-other", "other", 30));
    List<String> ids = epr.samplePatientIds(40, 23);
    try (ItEnvironment it = ItEnvironment.inFrontOf(epr, policies, 100)) {
      // traffic of another role all along: every answer a decision, never a 5xx or a dropped connection
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentHashMap<Integer, Integer> statuses = new ConcurrentHashMap<>();
      ExecutorService traffic = Executors.newFixedThreadPool(2);
      String background = it.token("bg-" + UUID.randomUUID(), "other");
      for (int t = 0; t < 2; t++) {
        traffic.execute(() -> {
          while (!stop.get()) {
            try {
              statuses.merge(it.get("Patient/" + ids.get(0), background).statusCode(), 1, Integer::sum);
            } catch (Exception e) {
              statuses.merge(-1, 1, Integer::sum);
            }
          }
        });
      }
      try {
        String early = it.token("early-" + UUID.randomUUID(), "reloader");
        assertThat(readUntilRefused(it, early, ids.subList(0, 10))).isEqualTo(10);

        long applied = reloads(it, true);
        write("reload.yaml", role("it-reload", "reloader", 5));
        awaitReload(it, true, applied);
        HttpResponse<String> over = it.get("Patient/" + ids.get(10), early);
        ItEnvironment.assertOperationOutcome(over, 429);
        assertThat(readUntilRefused(it, it.token("late-" + UUID.randomUUID(), "reloader"), ids.subList(20, 30)))
            .as("a new user under the lowered limit").isEqualTo(5);

        applied = reloads(it, true);
        Files.delete(policies.resolve("other.yaml"));
        awaitReload(it, true, applied);
        HttpResponse<String> orphan = it.get("Patient/" + ids.get(0), it.token("bg2-" + UUID.randomUUID(), "other"));
        ItEnvironment.assertOperationOutcome(orphan, 403);

        long refused = reloads(it, false);
        write("reload.yaml", role("it-reload", "reloader", 5).replace("max: 5", "max: -3"));
        awaitReload(it, false, refused);
        assertThat(readUntilRefused(it, it.token("after-" + UUID.randomUUID(), "reloader"), ids.subList(30, 40)))
            .as("the invalid edit left the limit of 5 in force").isEqualTo(5);
      } finally {
        stop.set(true);
        traffic.shutdown();
        assertThat(traffic.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(statuses.keySet()).as("answers while policies changed: " + statuses).isSubsetOf(200, 403);
      assertThat(statuses.get(200)).isPositive();
      assertThat(statuses.get(403)).as("the deleted role's traffic was refused once it was gone").isPositive();
    }
  }
}
