package org.fhirwall.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditTrail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fhirwall audit verify}: its exit codes (0 intact, 1 tampered, 2 unreadable) are a contract. */
class AuditCommandTest {
  @TempDir Path dir;

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine c = new CommandLine(new Main());
    c.setOut(new PrintWriter(out, true));
    c.setErr(new PrintWriter(err, true));
    return new Run(c.execute(args), out.toString(), err.toString());
  }

  Path trail(byte[] key) throws Exception {
    Path file = dir.resolve("audit.jsonl");
    AuditTrail t = AuditTrail.open(new AuditTrail.FileSettings(file, 1L << 30, Duration.ofDays(1), Duration.ofSeconds(1), key,
        5, Duration.ofMinutes(1)), null, 1000, AuditTrail.OnFailure.ALARM, Clock.systemUTC());
    for (int i = 0; i < 12; i++) {
      t.write(new AuditRecord(AuditRecord.Kind.DECISION, Instant.now(), "req-" + i, AuditRecord.Outcome.ALLOWED, 200, null, null,
          null, "GET", "read", "Patient", null, "Patient/" + i, List.of("Patient/" + i), 1, Map.of(), null, "", List.of(), null,
          "10.0.0.1", null, 5));
    }
    t.close();
    return file;
  }

  @Test
  void anIntactTrailExitsZeroAndATamperedOneOneWithTheLine() throws Exception {
    Path key = Files.write(dir.resolve("audit.key"), "0123456789abcdef0123456789abcdef".getBytes(UTF_8));
    Path file = trail(Files.readAllBytes(key));
    Run ok = run("audit", "verify", "--key-file", key.toString(), file.toString());
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("intact: 15 records in 1 file(s), last record 15, 3 checkpoint(s), signed up to record 15");

    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    lines.remove(7);
    Files.writeString(file, String.join("\n", lines) + "\n");
    Run bad = run("audit", "verify", "--key-file", key.toString(), file.toString());
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains(file + ":8: record 9 where 8 was expected: 1 record(s) removed");
    assertThat(bad.out()).startsWith("NOT INTACT");
  }

  @Test
  void aMissingFileExitsTwo() {
    assertThat(run("audit", "verify", dir.resolve("none.jsonl").toString()).exit()).isEqualTo(2);
  }
}
