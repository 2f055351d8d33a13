package org.fhirwall.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditTrailTest {
  @TempDir Path dir;

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    volatile Instant now = AuditRecords.NOW;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  static AuditRecord record(int i) {
    AuditRecord r = AuditRecords.read();
    return new AuditRecord(r.kind(), r.time(), "req-" + i, r.outcome(), r.status(), r.principal(), r.role(), r.mode(),
        r.method(), r.interaction(), r.resourceType(), r.operation(), "Patient/" + i, List.of("Patient/" + i), 1,
        Map.of("1h", 1), null, "", List.of(), null, r.remoteAddress(), null, 10);
  }

  AuditTrail.FileSettings file(long maxSize, Duration every, byte[] key) {
    return new AuditTrail.FileSettings(dir.resolve("audit.jsonl"), maxSize, every, Duration.ofMillis(50), key, 100,
        Duration.ofMinutes(1));
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  List<Path> auditFiles() throws IOException {
    List<Path> all = new ArrayList<>(AuditFile.rotatedFiles(dir.resolve("audit.jsonl")));
    all.add(dir.resolve("audit.jsonl"));
    return all;
  }

  @Test
  void theFileAndStandardOutputBothGetEveryRecordAndCloseWritesOutTheQueue() throws Exception {
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    AuditTrail trail = AuditTrail.open(file(1L << 30, Duration.ofDays(1), null), stdout, 100_000, AuditTrail.OnFailure.ALARM,
        Clock.systemUTC());
    for (int i = 0; i < 5000; i++) {
      trail.write(record(i));
    }
    trail.close();
    assertThat(stdout.toString(UTF_8).lines().count()).isEqualTo(5000);
    List<String> lines = Files.readAllLines(dir.resolve("audit.jsonl"));
    assertThat(lines).hasSize(5000);
    assertThat(trail.dropped()).isZero();
    AuditEvent e = AuditRecordSizeTest.parse(lines.get(4999).getBytes(UTF_8));
    assertThat(e.getId()).endsWith("req-4999");
    assertThat(e.getExtensionByUrl(Chain.URL).getValue().primitiveValue()).startsWith("5000 ");
    assertThat(AuditVerifier.verify(List.of(dir.resolve("audit.jsonl")), null).intact()).isTrue();
  }

  @Test
  void theFileRotatesBySizeAndTheChainGoesOnAcrossFiles() throws Exception {
    byte[] key = "0123456789abcdef0123456789abcdef".getBytes(UTF_8);
    AuditTrail trail = AuditTrail.open(file(64 * 1024, Duration.ofDays(1), key), null, 100_000, AuditTrail.OnFailure.ALARM,
        Clock.systemUTC());
    for (int i = 0; i < 500; i++) {
      trail.write(record(i));
    }
    trail.close();
    List<Path> files = auditFiles();
    assertThat(files.size()).isGreaterThan(3);
    for (Path f : files.subList(0, files.size() - 1)) {
      assertThat(Files.size(f)).isLessThan(64 * 1024 + 700 * 1024);
      assertThat(Files.readAllLines(f).get(Files.readAllLines(f).size() - 1)).as("each rotated file ends signed")
          .contains("\"code\":\"checkpoint\"");
    }
    List<Path> anyOrder = new ArrayList<>(files);
    java.util.Collections.reverse(anyOrder);
    AuditVerifier.Report report = AuditVerifier.verify(anyOrder, key);
    assertThat(report.findings()).isEmpty();
    assertThat(report.lastSeq()).isEqualTo(report.signedUpTo());
    assertThat(files.stream().mapToLong(f -> {
      try {
        return Files.readAllLines(f).stream().filter(l -> l.contains("\"id\":\"req-")).count();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).sum()).isEqualTo(500);
  }

  @Test
  void theFileRotatesByAge() throws Exception {
    MovableClock clock = new MovableClock();
    AuditTrail trail = AuditTrail.open(file(1L << 30, Duration.ofHours(1), null), null, 1000, AuditTrail.OnFailure.ALARM, clock);
    trail.write(record(1));
    await("the first record written", () -> trail.written() == 1);
    clock.now = clock.now.plus(Duration.ofMinutes(61));
    await("the file rotated", () -> {
      try {
        return AuditFile.rotatedFiles(dir.resolve("audit.jsonl")).size() == 1;
      } catch (IOException e) {
        return false;
      }
    });
    trail.write(record(2));
    trail.close();
    Path rotated = AuditFile.rotatedFiles(dir.resolve("audit.jsonl")).get(0);
    assertThat(rotated.getFileName().toString()).isEqualTo("audit-20261125T110100123Z.jsonl");
    assertThat(Files.readString(rotated)).contains("req-1").doesNotContain("req-2");
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("req-2");
    assertThat(AuditVerifier.verify(auditFiles(), null).findings()).isEmpty();
  }

  @Test
  void reopenAfterAnExternalMoveStartsANewFileAtThePath() throws Exception {
    AuditTrail trail = AuditTrail.open(file(1L << 30, Duration.ofDays(1), null), null, 1000, AuditTrail.OnFailure.ALARM,
        Clock.systemUTC());
    trail.write(record(1));
    await("the first record written", () -> trail.written() == 1);
    Path moved = dir.resolve("audit-moved.jsonl");
    Files.move(dir.resolve("audit.jsonl"), moved);
    trail.reopen();
    trail.write(record(2));
    trail.close();
    assertThat(Files.readString(moved)).contains("req-1").doesNotContain("req-2");
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("req-2").doesNotContain("req-1");
    assertThat(AuditVerifier.verify(List.of(dir.resolve("audit.jsonl"), moved), null).findings()).isEmpty();
  }

  @Test
  void aRestartResumesTheChainAndCutsOffATornLine() throws Exception {
    AuditTrail first = AuditTrail.open(file(1L << 30, Duration.ofDays(1), null), null, 1000, AuditTrail.OnFailure.ALARM,
        Clock.systemUTC());
    first.write(record(1));
    first.write(record(2));
    first.close();
    Files.writeString(dir.resolve("audit.jsonl"), "{\"resourceType\":\"AuditEvent\",\"extension\":[{\"u",
        java.nio.file.StandardOpenOption.APPEND);
    AuditTrail second = AuditTrail.open(file(1L << 30, Duration.ofDays(1), null), null, 1000, AuditTrail.OnFailure.ALARM,
        Clock.systemUTC());
    second.write(record(3));
    second.close();
    List<String> lines = Files.readAllLines(dir.resolve("audit.jsonl"));
    assertThat(lines).hasSize(3);
    assertThat(lines.get(2)).contains("\"valueString\":\"3 ");
    assertThat(AuditVerifier.verify(List.of(dir.resolve("audit.jsonl")), null).findings()).isEmpty();
  }

  /** A destination that fails while {@code down} is set, like a full disk. */
  static final class Flaky implements Destination {
    final AtomicBoolean down = new AtomicBoolean(true);
    final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public String name() {
      return "flaky";
    }

    @Override
    public void write(List<byte[]> batch, Instant now) throws IOException {
      if (down.get()) {
        throw new IOException("No space left on device");
      }
      batch.forEach(b -> lines.add(new String(b, UTF_8)));
    }

    @Override
    public void close() {}
  }

  @Test
  void aFailingDestinationKeepsItsRecordsAndRefusalIsSignalledUntilItRecovers() throws Exception {
    MovableClock clock = new MovableClock();
    Flaky flaky = new Flaky();
    AuditTrail trail = new AuditTrail(List.of(flaky), 1000, AuditTrail.OnFailure.REFUSE, clock);
    assertThat(trail.accepting()).isTrue();
    trail.write(record(1));
    await("the failure noticed", () -> !trail.accepting());
    assertThat(trail.problem()).contains("flaky").contains("No space left");
    trail.write(record(2));
    await("both records owed", () -> trail.owed() == 2);
    flaky.down.set(false);
    clock.now = clock.now.plusSeconds(5);
    await("the destination recovered", trail::accepting);
    trail.close();
    assertThat(flaky.lines).hasSize(2);
    assertThat(trail.dropped()).isZero();
    assertThat(trail.failures()).isPositive();
    assertThat(trail.problem()).isNull();
  }

  @Test
  void underTheAlarmPolicyRequestsGoOnAndWhatADestinationCannotHoldIsCountedAsDropped() throws Exception {
    MovableClock clock = new MovableClock();
    Flaky flaky = new Flaky();
    AuditTrail trail = new AuditTrail(List.of(flaky), 10, AuditTrail.OnFailure.ALARM, clock);
    for (int i = 0; i < 15; i++) {
      trail.write(record(i));
      await("record " + i + " taken", () -> trail.queueDepth() == 0);
    }
    await("the excess dropped", () -> trail.dropped() == 5);
    assertThat(trail.accepting()).isTrue();
    assertThat(trail.problem()).contains("flaky");
    flaky.down.set(false);
    trail.close();
    assertThat(flaky.lines).hasSize(10);
    assertThat(flaky.lines.get(0)).as("the oldest are kept, the newest dropped (as a full spool does)").contains("\"id\":\"req-0\"");
    assertThat(flaky.lines.get(9)).contains("\"id\":\"req-9\"");
  }
  @Test
  void aFailingDestinationSpoolsToDiskAndGetsEveryRecordInOrderWhenItRecovers() throws Exception {
    MovableClock clock = new MovableClock();
    Flaky flaky = new Flaky();
    AuditTrail trail = new AuditTrail(List.of(flaky), 1000, AuditTrail.OnFailure.ALARM, clock,
        new AuditTrail.SpoolSettings(dir.resolve("spool"), 1L << 20));
    for (int i = 0; i < 300; i++) {
      trail.write(record(i));
    }
    await("all spooled", () -> trail.owed() == 300);
    assertThat(Files.readAllLines(dir.resolve("spool/flaky.spool"))).hasSize(300);
    flaky.down.set(false);
    clock.now = clock.now.plusSeconds(5);
    await("delivered", () -> flaky.lines.size() == 300);
    trail.close();
    assertThat(flaky.lines).extracting(l -> l.substring(l.indexOf("\"id\":\"") + 6, l.indexOf("\",\"type\"")))
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 300).mapToObj(i -> "req-" + i).toList());
    assertThat(Files.size(dir.resolve("spool/flaky.spool"))).isZero();
    assertThat(trail.dropped()).isZero();
  }

  @Test
  void whatIsSpooledAtShutdownIsDeliveredAfterTheNextStartBeforeNewRecords() throws Exception {
    Flaky flaky = new Flaky();
    AuditTrail.SpoolSettings spool = new AuditTrail.SpoolSettings(dir.resolve("spool"), 1L << 20);
    AuditTrail first = new AuditTrail(List.of(flaky), 1000, AuditTrail.OnFailure.ALARM, new MovableClock(), spool);
    for (int i = 0; i < 20; i++) {
      first.write(record(i));
    }
    first.close();
    assertThat(first.dropped()).as("kept in the spool, not lost").isZero();
    flaky.down.set(false);
    AuditTrail second = new AuditTrail(List.of(flaky), 1000, AuditTrail.OnFailure.ALARM, new MovableClock(), spool);
    second.write(record(20));
    second.close();
    assertThat(flaky.lines).hasSize(21);
    assertThat(flaky.lines.get(0)).contains("req-0");
    assertThat(flaky.lines.get(20)).contains("req-20");
  }

  @Test
  void aFullSpoolDropsTheExcessCountedAndRefusesUnderTheRefusePolicy() throws Exception {
    Flaky flaky = new Flaky();
    long oneLine = AuditEventJson.line(record(1)).length;
    AuditTrail trail = new AuditTrail(List.of(flaky), 1000, AuditTrail.OnFailure.REFUSE, new MovableClock(),
        new AuditTrail.SpoolSettings(dir.resolve("spool"), oneLine * 5 + 10));
    for (int i = 0; i < 8; i++) {
      trail.write(record(i));
    }
    // the writer counts the excess as it spools, then marks the destination failing: wait for both
    await("the excess dropped and the trail refusing", () -> trail.dropped() == 3 && !trail.accepting());
    assertThat(trail.owed()).isEqualTo(5);
    assertThat(trail.dropped()).isEqualTo(3);
    trail.close();
  }
}
