package org.fhirwall.audit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Checks audit files written by fhirwall: every line's chain link (its number follows the previous
 * line's, across files, and its hash is that of the previous hash and the line), and, with the
 * checkpoint key, every checkpoint's signature. A removed line shows as a gap in the numbers, a
 * moved line as numbers out of order, an edited line as a hash that does not match; an attacker
 * who rewrites the chain after an edit cannot sign the next checkpoint without the key.
 *
 * <p>Files are taken in the order of their first record's number (rotated files and the current
 * one may be given in any order). When the first file does not start the chain (older files were
 * archived), its first line is taken as the anchor and said so. Stateless.
 */
public final class AuditVerifier {

  private AuditVerifier() {}

  /** A line that breaks the chain: file, line number (1-based), what is wrong. */
  public record Finding(Path file, long line, String problem) {
    @Override
    public String toString() {
      return file + ":" + line + ": " + problem;
    }
  }

  /**
   * @param records chained lines read (checkpoints included)
   * @param checkpoints checkpoint lines seen
   * @param signedUpTo the number of the last record a verified checkpoint covers (0: none)
   * @param lastSeq the number of the last record
   * @param notes remarks that are not tampering (the chain's anchor, records after the last checkpoint)
   */
  public record Report(long records, long checkpoints, long signedUpTo, long lastSeq, List<Finding> findings,
      List<String> notes) {
    public boolean intact() {
      return findings.isEmpty();
    }
  }

  /** Verifies {@code files} as one chain; {@code key} checks the checkpoints' signatures (null: not checked). */
  public static Report verify(List<Path> files, byte @Nullable [] key) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<Path> ordered = new ArrayList<>(files);
    List<Long> firsts = new ArrayList<>();
    for (Path f : ordered) {
      firsts.add(firstSeq(f));
    }
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < ordered.size(); i++) {
      idx.add(i);
    }
    idx.sort(Comparator.comparingLong(firsts::get));
    List<Finding> findings = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    long records = 0;
    long checkpoints = 0;
    long signedUpTo = 0;
    Chain.Link prev = null;
    for (int i : idx) {
      Path file = ordered.get(i);
      long n = 0;
      try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
        byte[] line;
        while ((line = readLine(in)) != null) {
          n++;
          if (line[line.length - 1] != '\n') {
            findings.add(new Finding(file, n, "torn last line (an incomplete write)"));
            break;
          }
          Chain.Unlinked u = Chain.unlink(line);
          if (u == null) {
            findings.add(new Finding(file, n, "no chain link (a line fhirwall did not write, or one edited)"));
            continue;
          }
          records++;
          Chain.Link link = u.link();
          if (prev == null) {
            if (link.seq() == 1) {
              prev = Chain.start();
            } else {
              notes.add("the chain starts at record " + link.seq() + " (" + file + ":" + n
                  + "): the files before it were not given, so that record is taken as it is");
              prev = link;
              continue;
            }
          }
          if (link.seq() != prev.seq() + 1) {
            findings.add(new Finding(file, n, "record " + link.seq() + " where " + (prev.seq() + 1) + " was expected: "
                + (link.seq() > prev.seq() + 1 ? (link.seq() - prev.seq() - 1) + " record(s) removed" : "records reordered, "
                + "removed or the chain restarted")));
          } else if (!MessageDigest.isEqual(Chain.hash(sha, prev, link.seq(), u.plain()), link.hash())) {
            findings.add(new Finding(file, n, "record " + link.seq() + " was changed (its hash does not match)"));
          } else {
            String mac = Chain.checkpointMac(new String(u.plain(), StandardCharsets.UTF_8));
            if (mac != null) {
              checkpoints++;
              if (key != null) {
                if (MessageDigest.isEqual(Base64.getEncoder().encode(Chain.mac(key, prev)), mac.getBytes(StandardCharsets.US_ASCII))) {
                  signedUpTo = link.seq();
                } else {
                  findings.add(new Finding(file, n, "checkpoint " + link.seq() + " is not signed with this key: the "
                      + "chain before it was rewritten, or the key is not the deployment's"));
                }
              }
            }
          }
          prev = link;
        }
      }
    }
    long last = prev == null ? 0 : prev.seq();
    if (key != null && last > signedUpTo) {
      notes.add("records " + (signedUpTo + 1) + ".." + last + " come after the last signed checkpoint: chained, not signed");
    }
    if (key == null && checkpoints > 0) {
      notes.add(checkpoints + " checkpoint(s) not checked (no --key-file)");
    }
    return new Report(records, checkpoints, signedUpTo, last, findings, notes);
  }

  private static long firstSeq(Path file) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      byte[] line;
      while ((line = readLine(in)) != null) {
        Chain.Unlinked u = Chain.unlink(line);
        if (u != null) {
          return u.link().seq();
        }
      }
    }
    return Long.MAX_VALUE;
  }

  /** The next line, newline included (none on a torn last line); null at the end. */
  private static byte @Nullable [] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(2048);
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      if (c == '\n') {
        break;
      }
    }
    return b.size() == 0 ? null : b.toByteArray();
  }
}
