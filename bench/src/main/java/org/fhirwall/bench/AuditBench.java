package org.fhirwall.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.fhirwall.audit.AuditEventJson;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditTrail;
import org.fhirwall.auth.Principal;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The audit trail's cost: turning one record into its line ({@code line}), and the whole trail —
 * {@value #RECORDS} records through the writer into a hash-chained file with signed checkpoints,
 * closed (so written and synced) — ({@code trail}); for a read (1 patient) and a 50-patient search.
 * {@link AuditReport} turns the scores into records/s and prints bytes per record.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AuditBench {
  static final int RECORDS = 20_000;
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00.123456Z");

  @Param({"1", "50"})
  public int patients;

  private AuditRecord record;
  private Path dir;

  @Setup
  public void setUp() throws IOException {
    record = record(patients);
    dir = Files.createTempDirectory("audit-bench");
  }

  @TearDown
  public void tearDown() throws IOException {
    clean();
    Files.deleteIfExists(dir);
  }

  @TearDown(Level.Iteration)
  public void clean() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.delete(p);
      }
    }
  }

  /** A record as fhirwall writes it for a Keycloak user's read or search. */
  public static AuditRecord record(int patients) {
    Principal p = new Principal(Principal.Kind.USER, "https://keycloak.hospital.example/realms/hospital",
        "5f0c7c4e-8a7b-4f0e-9b7a-2d7c1b8e6a41", "dr.alice.martin", "fhirwall-web", Set.of("physician", "offline_access"),
        "2", Set.of("pwd", "otp"), NOW, "8d1f3a6e-2c4b-4e8f-a9d7-3b5c1e7f9a20", Set.of("openid"), null,
        NOW.plusSeconds(300), "onrtac:0b9c6d2e-7f1a-4c3b-8e5d-9a2f6b4c1d7e");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < patients; i++) {
      ids.add("Patient/pat-%06d".formatted(1000 + i));
    }
    boolean read = patients == 1;
    return new AuditRecord(AuditRecord.Kind.DECISION, NOW, "4bf92f3577b34da6a3ce929d0e0e4736", AuditRecord.Outcome.ALLOWED,
        200, p, "physician", "enforce", "GET", read ? "read" : "search-type", read ? "Patient" : "Observation", null,
        read ? "Patient/pat-001000" : "Observation?code=http://loinc.org|8867-4&_count=50", ids, patients,
        Map.of("1h", 62, "24h", 90), null, "", List.of(), null, "10.20.30.40", null, 1834);
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public byte[] line() {
    return AuditEventJson.line(record);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public long trail() throws IOException {
    AuditTrail t = AuditTrail.open(new AuditTrail.FileSettings(dir.resolve("audit-" + System.nanoTime() + ".jsonl"), 256L << 20,
        Duration.ofDays(1), Duration.ofSeconds(1), "0123456789abcdef0123456789abcdef".getBytes(), 1000, Duration.ofMinutes(1)),
        null, 1 << 16, AuditTrail.OnFailure.ALARM, Clock.systemUTC());
    for (int i = 0; i < RECORDS; i++) {
      t.write(record);
    }
    t.close();
    if (t.dropped() != 0) {
      throw new IllegalStateException(t.dropped() + " records dropped");
    }
    return t.written();
  }

  /** Bytes per record in the file (chain link included), from one trail of {@code n} records. */
  public static double fileBytesPerRecord(int patients, int n) throws IOException {
    Path d = Files.createTempDirectory("audit-size");
    Path f = d.resolve("audit.jsonl");
    AuditTrail t = AuditTrail.open(new AuditTrail.FileSettings(f, 256L << 20, Duration.ofDays(1), Duration.ofSeconds(1), null,
        1000, Duration.ofMinutes(1)), null, 1 << 16, AuditTrail.OnFailure.ALARM, Clock.systemUTC());
    AuditRecord r = record(patients);
    for (int i = 0; i < n; i++) {
      t.write(r);
    }
    t.close();
    double size = Files.size(f);
    Files.delete(f);
    Files.delete(d);
    return size / n;
  }
}
