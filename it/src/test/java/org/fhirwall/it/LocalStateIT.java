package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The local store with {@code quota.state-dir}: a lock and an open window survive a restart of fhirwall. */
@ExtendWith(LeakWatch.class)
class LocalStateIT {
  static Replicas parts;

  @BeforeAll
  static void start() throws Exception {
    parts = Replicas.start(300);
  }

  @AfterAll
  static void stop() throws Exception {
    if (parts != null) {
      parts.close();
    }
  }

  @Test
  void aLockedAccountIsStillLockedAfterARestartAndItsWindowStillCounts() throws Exception {
    String state = "state-dir: " + parts.dir.resolve("state");
    Replicas.Replica before = parts.replica("local", state);
    List<String> ids = parts.store.samplePatientIds(60, 3);
    String attacker = parts.token("local-attacker", "limited");
    String clinician = parts.token("local-clinician", "counted");
    assertThat(parts.get(before, "Patient?_id=" + String.join(",", ids.subList(0, 25)), attacker).statusCode()).isEqualTo(200);
    assertThat(parts.get(before, "Patient/" + ids.get(30), attacker).statusCode()).isEqualTo(429);
    assertThat(parts.get(before, "Patient?_id=" + String.join(",", ids.subList(0, 20)), clinician).statusCode()).isEqualTo(200);
    HttpResponse<String> page = parts.get(before, "Patient?_count=2", clinician);
    String link = Replicas.next(page.body());
    parts.stop(before);

    Replicas.Replica after = parts.replica("local-again", state);
    HttpResponse<String> locked = parts.get(after, "Patient/" + ids.get(0), attacker);
    assertThat(locked.statusCode()).as("still locked after the restart").isEqualTo(429);
    assertThat(locked.body()).contains("locked");
    assertThat(parts.locks(after)).contains("sub-local-attacker");
    assertThat(parts.get(after, Replicas.onReplica(link, after), clinician).statusCode())
        .as("a paging link issued before the restart still opens").isEqualTo(200);
    assertThat(parts.get(after, "Patient?_id=" + String.join(",", ids.subList(30, 36)), clinician).statusCode())
        .as("the window opened before the restart still counts (20 + 2 + 2 + 6 > 25)").isEqualTo(429);
  }
}
