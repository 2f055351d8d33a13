package org.fhirwall.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The hash chain of an audit file: each line carries, as an extension of its {@code AuditEvent},
 * its number in the chain and {@code SHA-256(previous hash ‖ number ‖ the line without the
 * extension)}; the chain goes on across rotated files and restarts. Checkpoint lines (themselves
 * chained) carry an HMAC-SHA256, under a key only fhirwall holds, of the link before them, so an
 * attacker who edits a line cannot recompute the chain past the next checkpoint.
 *
 * <p>Line format (what {@link #link} writes and {@link #unlink} reads):
 * <pre>{"resourceType":"AuditEvent","extension":[{"url":"URL","valueString":"SEQ HASH"}],REST</pre>
 * where the unchained line is {@code {"resourceType":"AuditEvent",REST}}. Not thread-safe (the
 * audit writer's thread owns it).
 */
final class Chain {
  static final String URL = "https://fhirwall.org/fhir/StructureDefinition/audit-chain";
  static final byte[] HEAD = "{\"resourceType\":\"AuditEvent\",".getBytes(StandardCharsets.US_ASCII);
  static final byte[] CHAINED_HEAD = ("{\"resourceType\":\"AuditEvent\",\"extension\":[{\"url\":\"" + URL
      + "\",\"valueString\":\"").getBytes(StandardCharsets.US_ASCII);
  static final byte[] CHAINED_TAIL = "\"}],".getBytes(StandardCharsets.US_ASCII);
  static final byte[] GENESIS = new byte[32];

  /** The position of a chain: the number of the last line and its hash. */
  record Link(long seq, byte[] hash) {
    String text() {
      return seq + " " + Base64.getEncoder().encodeToString(hash);
    }

    static @Nullable Link parse(String text) {
      int space = text.indexOf(' ');
      if (space <= 0) {
        return null;
      }
      try {
        byte[] h = Base64.getDecoder().decode(text.substring(space + 1));
        return h.length == 32 ? new Link(Long.parseLong(text.substring(0, space)), h) : null;
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
  }

  /** A chained line taken apart: its link and the line as it was before chaining. */
  record Unlinked(Link link, byte[] plain) {}

  private final MessageDigest sha;
  private Link last;

  Chain(Link last) {
    this.last = last;
    try {
      this.sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static Link start() {
    return new Link(0, GENESIS);
  }

  Link last() {
    return last;
  }

  /** Back to {@code link} (a batch that could not be written is linked again). */
  void rewind(Link link) {
    last = link;
  }

  /** The line (an unchained audit line, newline included) with its link; advances the chain. */
  byte[] link(byte[] plain) {
    Batch out = new Batch(plain.length + 128);
    link(plain, out);
    return out.toByteArray();
  }

  /** Appends the line (an unchained audit line, newline included) with its link to {@code out}; advances the chain. */
  void link(byte[] plain, Batch out) {
    if (!startsWith(plain, HEAD)) {
      throw new IllegalArgumentException("not an AuditEvent line");
    }
    Link next = new Link(last.seq() + 1, hash(sha, last, last.seq() + 1, plain));
    out.write(CHAINED_HEAD, 0, CHAINED_HEAD.length);
    out.writeAscii(next.text());
    out.write(CHAINED_TAIL, 0, CHAINED_TAIL.length);
    out.write(plain, HEAD.length, plain.length - HEAD.length);
    last = next;
  }

  /**
   * Bytes gathered for one write, the buffer kept for the next: the audit writer's, not
   * thread-safe (so none of {@code ByteArrayOutputStream}'s locking).
   */
  static final class Batch {
    private byte[] buf;
    private int count;

    Batch(int capacity) {
      buf = new byte[capacity];
    }

    void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    void writeAscii(String s) {
      ensure(s.length());
      for (int i = 0; i < s.length(); i++) {
        buf[count++] = (byte) s.charAt(i);
      }
    }

    int size() {
      return count;
    }

    byte[] toByteArray() {
      return java.util.Arrays.copyOf(buf, count);
    }

    /** What was gathered, without a copy (valid until the next write or reset). */
    java.nio.ByteBuffer view() {
      return java.nio.ByteBuffer.wrap(buf, 0, count);
    }

    /** Empties the batch; a buffer grown past {@code keep} bytes by a large batch goes back to {@code initial}. */
    void reset(int keep, int initial) {
      count = 0;
      if (buf.length > keep) {
        buf = new byte[initial];
      }
    }

    private void ensure(int more) {
      if (count + more > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
      }
    }
  }

  static byte[] hash(MessageDigest sha, Link previous, long seq, byte[] plain) {
    sha.reset();
    sha.update(previous.hash());
    sha.update(Long.toString(seq).getBytes(StandardCharsets.US_ASCII));
    sha.update((byte) '\n');
    sha.update(plain);
    return sha.digest();
  }

  /** A chained line (newline included or not) taken apart; null when it carries no link. */
  static @Nullable Unlinked unlink(byte[] line) {
    if (!startsWith(line, CHAINED_HEAD)) {
      return null;
    }
    int end = -1;
    for (int i = CHAINED_HEAD.length; i + CHAINED_TAIL.length <= line.length && i < CHAINED_HEAD.length + 80; i++) {
      if (line[i] == '"') {
        end = i;
        break;
      }
    }
    if (end < 0 || !Arrays.equals(line, end, end + CHAINED_TAIL.length, CHAINED_TAIL, 0, CHAINED_TAIL.length)) {
      return null;
    }
    Link link = Link.parse(new String(line, CHAINED_HEAD.length, end - CHAINED_HEAD.length, StandardCharsets.US_ASCII));
    if (link == null) {
      return null;
    }
    int rest = end + CHAINED_TAIL.length;
    boolean newline = line.length > 0 && line[line.length - 1] == '\n';
    byte[] plain = new byte[HEAD.length + line.length - rest + (newline ? 0 : 1)];
    System.arraycopy(HEAD, 0, plain, 0, HEAD.length);
    System.arraycopy(line, rest, plain, HEAD.length, line.length - rest);
    plain[plain.length - 1] = '\n';
    return new Unlinked(link, plain);
  }

  /** The unchained checkpoint line after {@code signed}: an AuditEvent carrying the HMAC of that link. */
  static byte[] checkpoint(Instant at, Link signed, byte[] key) {
    String line = "{\"resourceType\":\"AuditEvent\",\"id\":\"checkpoint-" + (signed.seq() + 1) + "\","
        + "\"type\":{\"system\":\"http://dicom.nema.org/resources/ontology/DCM\",\"code\":\"110113\"},"
        + "\"subtype\":[{\"system\":\"https://fhirwall.org/audit-subtype\",\"code\":\"checkpoint\"}],"
        + "\"action\":\"E\",\"recorded\":\"" + at + "\",\"outcome\":\"0\","
        + "\"agent\":[{\"who\":{\"display\":\"fhirwall\"},\"requestor\":false}],"
        + "\"source\":{\"observer\":{\"display\":\"fhirwall\"}},"
        + "\"entity\":[{\"description\":\"checkpoint\",\"detail\":[{\"type\":\"hmac-sha256\",\"valueString\":\""
        + Base64.getEncoder().encodeToString(mac(key, signed)) + "\"}]}]}\n";
    return line.getBytes(StandardCharsets.US_ASCII);
  }

  static final String CHECKPOINT_MARK = "\"code\":\"checkpoint\"}]";

  /** The HMAC a checkpoint line carries, null when the line is no checkpoint. */
  static @Nullable String checkpointMac(String plain) {
    if (!plain.startsWith("{\"resourceType\":\"AuditEvent\",\"id\":\"checkpoint-") || !plain.contains(CHECKPOINT_MARK)) {
      return null;
    }
    String key = "{\"type\":\"hmac-sha256\",\"valueString\":\"";
    int at = plain.indexOf(key);
    if (at < 0) {
      return null;
    }
    int end = plain.indexOf('"', at + key.length());
    return end < 0 ? null : plain.substring(at + key.length(), end);
  }

  static byte[] mac(byte[] key, Link link) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(link.text().getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  private static boolean startsWith(byte[] line, byte[] prefix) {
    return line.length >= prefix.length && Arrays.equals(line, 0, prefix.length, prefix, 0, prefix.length);
  }
}
