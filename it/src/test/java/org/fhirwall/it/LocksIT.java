package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.util.List;
import org.fhirwall.cli.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/** An operator lists and lifts a lock with {@code fhirwall locks}, through the admin API of a running fhirwall. */
@ExtendWith(LeakWatch.class)
class LocksIT {
  static ItEnvironment it;

  @BeforeAll
  static void start() throws Exception {
    it = ItEnvironment.start(300);
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  static String[] cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine c = new CommandLine(new Main());
    c.setOut(new PrintWriter(out, true));
    c.setErr(new PrintWriter(err, true));
    int exit = c.execute(args);
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }

  @Test
  void aLockedAccountIsListedAndCanBeLifted() throws Exception {
    String token = it.token("locked-out", "limited");
    List<String> ids = it.env.store().samplePatientIds(60, 21);
    assertThat(it.get("Patient?_id=" + String.join(",", ids.subList(0, 20)), token).statusCode()).isEqualTo(200);
    assertThat(it.get("Patient?_id=" + String.join(",", ids.subList(20, 40)), token).statusCode()).isEqualTo(429);
    HttpResponse<String> locked = it.get("Patient/" + ids.get(0), token);
    assertThat(locked.statusCode()).isEqualTo(429);

    InetSocketAddress admin = it.env.fhirwall().adminAddress();
    String url = "http://127.0.0.1:" + admin.getPort();
    String tokens = it.env.adminTokenFile().toString();
    String[] anonymous = cli("locks", "--admin", url, "list");
    assertThat(anonymous[0]).as("the lock API needs an operator token").isEqualTo("1");
    assertThat(anonymous[2]).contains("operator token required");
    String[] list = cli("locks", "--admin", url, "--token-file", tokens, "list");
    assertThat(list[0]).isEqualTo("0");
    assertThat(list[1]).contains("sub-locked-out");
    String account = it.env.issuer().issuer() + "|sub-locked-out";

    assertThat(cli("locks", "--admin", url, "unlock", account)[0]).as("no unlock without a token").isEqualTo("1");
    String[] unlock = cli("locks", "--admin", url, "--token-file", tokens, "unlock", account);
    assertThat(unlock[0]).as(unlock[2]).isEqualTo("0");
    assertThat(cli("locks", "--admin", url, "--token-file", tokens, "list")[1]).doesNotContain("sub-locked-out");
    String unlocked = "lock lifted by operator demo for " + account;
    for (int i = 0; i < 100 && !java.nio.file.Files.readString(it.env.auditFile()).contains(unlocked); i++) {
      Thread.sleep(50);
    }
    assertThat(java.nio.file.Files.readString(it.env.auditFile())).as("the unlock is audited with the operator").contains(unlocked);
    assertThat(it.get("Patient/" + ids.get(0), token).statusCode()).isEqualTo(200);
  }

  @Test
  void anUnreachableAdminApiIsAClearError() {
    String[] r = cli("locks", "--admin", "http://127.0.0.1:1", "list");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("cannot reach the admin API");
  }
}
