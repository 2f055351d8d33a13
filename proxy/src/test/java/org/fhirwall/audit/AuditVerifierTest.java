package org.fhirwall.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of tampering with the audit files, and what {@link AuditVerifier} says about it. */
class AuditVerifierTest {
  static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(UTF_8);
  @TempDir Path dir;
  List<Path> files;

  /** 40 records, a checkpoint every 10, over several rotated files. */
  @BeforeEach
  void write() throws Exception {
    AuditTrail trail = AuditTrail.open(new AuditTrail.FileSettings(dir.resolve("audit.jsonl"), 16 * 1024, Duration.ofDays(1),
        Duration.ofSeconds(1), KEY, 10, Duration.ofMinutes(1)), null, 1000, AuditTrail.OnFailure.ALARM, Clock.systemUTC());
    for (int i = 0; i < 40; i++) {
      trail.write(AuditTrailTest.record(i));
    }
    trail.close();
    files = new ArrayList<>(AuditFile.rotatedFiles(dir.resolve("audit.jsonl")));
    files.add(dir.resolve("audit.jsonl"));
    assertThat(files.size()).as("rotated files").isGreaterThan(2);
  }

  List<String> lines(Path f) throws Exception {
    return new ArrayList<>(Files.readAllLines(f, UTF_8));
  }

  void rewrite(Path f, List<String> lines) throws Exception {
    Files.writeString(f, String.join("\n", lines) + "\n", UTF_8);
  }

  @Test
  void anUntouchedTrailIsIntactAndSignedToTheEnd() throws Exception {
    AuditVerifier.Report r = AuditVerifier.verify(files, KEY);
    assertThat(r.findings()).isEmpty();
    assertThat(r.records() - r.checkpoints()).isEqualTo(40);
    assertThat(r.checkpoints()).isGreaterThanOrEqualTo(4);
    assertThat(r.signedUpTo()).isEqualTo(r.lastSeq());
  }

  @Test
  void aRemovedLineIsFound() throws Exception {
    Path f = files.get(1);
    List<String> l = lines(f);
    l.remove(1);
    rewrite(f, l);
    assertThat(AuditVerifier.verify(files, null).findings()).singleElement().satisfies(x -> {
      assertThat(x.file()).isEqualTo(f);
      assertThat(x.line()).isEqualTo(2);
      assertThat(x.problem()).contains("1 record(s) removed");
    });
  }

  @Test
  void twoSwappedLinesAreFound() throws Exception {
    Path f = files.get(0);
    List<String> l = lines(f);
    String a = l.get(2);
    l.set(2, l.get(3));
    l.set(3, a);
    rewrite(f, l);
    assertThat(AuditVerifier.verify(files, null).findings()).isNotEmpty()
        .first().satisfies(x -> assertThat(x.line()).isEqualTo(3));
  }

  @Test
  void anEditedLineIsFound() throws Exception {
    Path f = files.get(0);
    List<String> l = lines(f);
    l.set(4, l.get(4).replace("dr.alice.martin", "dr.bob.martin"));
    rewrite(f, l);
    assertThat(AuditVerifier.verify(files, null).findings()).singleElement()
        .satisfies(x -> assertThat(x.problem()).contains("was changed"));
  }

  @Test
  void anEditWithTheChainRecomputedPassesTheChainButNotTheSignedCheckpoint() throws Exception {
    List<String> all = new ArrayList<>();
    for (Path f : files) {
      all.addAll(lines(f));
    }
    all.set(4, all.get(4).replace("dr.alice.martin", "dr.bob.martin"));
    Chain forger = new Chain(Chain.start());
    List<String> forged = new ArrayList<>();
    for (String line : all) {
      Chain.Unlinked u = Chain.unlink((line + "\n").getBytes(UTF_8));
      forged.add(new String(forger.link(u.plain()), UTF_8).stripTrailing());
    }
    Path one = dir.resolve("forged.jsonl");
    rewrite(one, forged);
    assertThat(AuditVerifier.verify(List.of(one), null).findings()).as("without the key, a rewritten chain holds").isEmpty();
    assertThat(AuditVerifier.verify(List.of(one), KEY).findings()).isNotEmpty()
        .allSatisfy(x -> assertThat(x.problem()).contains("not signed with this key"));
  }

  @Test
  void aRemovedRotatedFileIsFound() throws Exception {
    List<Path> without = new ArrayList<>(files);
    without.remove(1);
    assertThat(AuditVerifier.verify(without, KEY).findings()).singleElement()
        .satisfies(x -> assertThat(x.problem()).contains("removed"));
  }

  @Test
  void laterFilesAloneVerifyFromTheirFirstRecordAndSayWhereTheChainStarts() throws Exception {
    AuditVerifier.Report r = AuditVerifier.verify(files.subList(1, files.size()), KEY);
    assertThat(r.findings()).isEmpty();
    assertThat(r.notes()).anyMatch(n -> n.startsWith("the chain starts at record"));
  }

  @Test
  void aLineAddedByHandIsFound() throws Exception {
    Path f = files.get(0);
    List<String> l = lines(f);
    l.add(3, new String(AuditEventJson.line(AuditTrailTest.record(999)), UTF_8).stripTrailing());
    rewrite(f, l);
    assertThat(AuditVerifier.verify(files, null).findings()).singleElement()
        .satisfies(x -> assertThat(x.problem()).contains("no chain link"));
  }
}
