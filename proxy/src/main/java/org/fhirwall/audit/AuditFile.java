package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON-lines audit file: appended to in batches, each line hash-chained ({@link Chain}),
 * rotated by size and by age to {@code NAME-yyyyMMdd'T'HHmmssSSS'Z'.EXT} beside it (the chain goes
 * on in the new file), synced to disk at most {@code fsyncInterval} after a write, and reopened on
 * {@code SIGHUP} (after an external {@code mv}, a new file is created at the path). With a
 * checkpoint key, a signed checkpoint line is written every {@code checkpointRecords} records or
 * {@code checkpointEvery}, before each rotation and at close.
 *
 * <p>At open, the chain is resumed from the last complete line of the file (or of the newest
 * rotated file); a torn last line (the process was killed in the middle of a write) is cut off and
 * logged, as it was never a record. Owned by the audit writer's thread.
 */
final class AuditFile implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(AuditFile.class);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);
  private static final int TAIL = 4 << 20;

  /**
   * @param maxSize rotate once the file holds this many bytes (0: never by size)
   * @param rotateEvery rotate a file written to for this long (zero: never by age)
   * @param fsyncInterval longest time between a write and its {@code fsync} (zero: every batch)
   * @param checkpointKey the HMAC key of checkpoints, null for none
   */
  record Settings(Path path, long maxSize, Duration rotateEvery, Duration fsyncInterval,
      byte @Nullable [] checkpointKey, int checkpointRecords, Duration checkpointEvery) {
    Settings {
      requireNonNull(path, "path");
      requireNonNull(rotateEvery, "rotateEvery");
      requireNonNull(fsyncInterval, "fsyncInterval");
      requireNonNull(checkpointEvery, "checkpointEvery");
      if (checkpointRecords < 1) {
        throw new IllegalArgumentException("checkpointRecords: " + checkpointRecords + " (expected: > 0)");
      }
    }
  }

  /** The batch buffer's first size, and the size past which a large batch's buffer is not kept. */
  private static final int BATCH_BUFFER = 64 * 1024;
  private static final int BATCH_BUFFER_KEPT = 1024 * 1024;

  private final Settings settings;
  private final Chain chain;
  /** The lines of one write, gathered in a buffer the writer keeps from batch to batch. */
  private final Chain.Batch batch = new Chain.Batch(BATCH_BUFFER);
  private FileChannel channel;
  private long size;
  private Instant openedAt;
  private Instant lastSync;
  private boolean unsynced;
  private long sinceCheckpoint;
  private Instant lastCheckpoint;

  private AuditFile(Settings settings, Chain chain, Instant now) throws IOException {
    this.settings = settings;
    this.chain = chain;
    this.lastSync = now;
    this.lastCheckpoint = now;
    this.openedAt = now;
    this.channel = openChannel();
  }

  static AuditFile open(Settings settings, Instant now) throws IOException {
    Path parent = settings.path().toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    return new AuditFile(settings, new Chain(resume(settings.path())), now);
  }

  @Override
  public String name() {
    return "file";
  }

  Path path() {
    return settings.path();
  }

  private FileChannel openChannel() throws IOException {
    FileChannel c = FileChannel.open(settings.path(), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    size = c.size();
    return c;
  }

  @Override
  public void write(List<byte[]> lines, Instant now) throws IOException {
    int from = 0;
    while (from < lines.size()) {
      int to = segment(lines, from, now);
      if (settings.maxSize() > 0 && size >= settings.maxSize()) {
        try {
          rotate(now);
        } catch (IOException e) {
          throw new Destination.PartialWrite(to, e);
        }
      }
      from = to;
    }
    if (settings.fsyncInterval().isZero()) {
      sync(now);
    }
  }

  /** Appends lines from {@code from} until the file reaches its size; returns the index after the last written. */
  private int segment(List<byte[]> lines, int from, Instant now) throws IOException {
    batch.reset(BATCH_BUFFER_KEPT, BATCH_BUFFER);
    byte[] key = settings.checkpointKey();
    Chain.Link before = chain.last();
    long since = sinceCheckpoint;
    Instant checkpointBefore = lastCheckpoint;
    long sizeBefore = size;
    int i = from;
    while (i < lines.size() && (settings.maxSize() <= 0 || size + batch.size() < settings.maxSize())) {
      chain.link(lines.get(i++), batch);
      if (key != null && ++sinceCheckpoint >= settings.checkpointRecords()) {
        chain.link(Chain.checkpoint(now, chain.last(), key), batch);
        sinceCheckpoint = 0;
        lastCheckpoint = now;
      }
    }
    try {
      append(batch.view());
    } catch (IOException e) {
      // These lines are offered again: the chain and the file go back to where they were.
      chain.rewind(before);
      sinceCheckpoint = since;
      lastCheckpoint = checkpointBefore;
      size = sizeBefore;
      try {
        channel.truncate(sizeBefore);
      } catch (IOException ignored) {
        // a torn tail is cut off at the next open
      }
      throw from == 0 ? e : new Destination.PartialWrite(from, e);
    }
    return i;
  }

  private void append(byte[] bytes) throws IOException {
    append(ByteBuffer.wrap(bytes));
  }

  private void append(ByteBuffer b) throws IOException {
    int length = b.remaining();
    while (b.hasRemaining()) {
      channel.write(b);
    }
    size += length;
    unsynced = true;
  }

  private void sync(Instant now) throws IOException {
    if (unsynced) {
      channel.force(false);
      unsynced = false;
    }
    lastSync = now;
  }

  private void checkpoint(Instant now) throws IOException {
    byte[] key = settings.checkpointKey();
    if (key != null && sinceCheckpoint > 0) {
      append(chain.link(Chain.checkpoint(now, chain.last(), key)));
      sinceCheckpoint = 0;
    }
    lastCheckpoint = now;
  }

  @Override
  public void tick(Instant now) throws IOException {
    if (settings.checkpointKey() != null && sinceCheckpoint > 0
        && !now.isBefore(lastCheckpoint.plus(settings.checkpointEvery()))) {
      checkpoint(now);
    }
    if (unsynced && !now.isBefore(lastSync.plus(settings.fsyncInterval()))) {
      sync(now);
    }
    if (!settings.rotateEvery().isZero() && size > 0 && !now.isBefore(openedAt.plus(settings.rotateEvery()))) {
      rotate(now);
    }
  }

  /** Moves the full file aside (signed, synced) and starts a new one at the path; the chain goes on. */
  void rotate(Instant now) throws IOException {
    checkpoint(now);
    sync(now);
    channel.close();
    Path target = rotatedName(settings.path(), now);
    Files.move(settings.path(), target, StandardCopyOption.ATOMIC_MOVE);
    LOG.info("audit file rotated to {}", target);
    channel = openChannel();
    openedAt = now;
  }

  static Path rotatedName(Path path, Instant now) {
    String name = path.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    String ext = dot > 0 ? name.substring(dot) : "";
    Instant t = now;
    Path target;
    do {
      target = path.resolveSibling(stem + "-" + STAMP.format(t) + ext);
      t = t.plusMillis(1);
    } while (Files.exists(target));
    return target;
  }

  @Override
  public void reopen() throws IOException {
    sync(lastSync);
    channel.close();
    channel = openChannel();
    LOG.info("audit file {} reopened", settings.path());
  }

  @Override
  public void close() throws IOException {
    Instant now = Instant.now();
    try {
      checkpoint(now);
      sync(now);
    } finally {
      channel.close();
    }
  }

  /** The link of the last complete line at {@code path}, else of its newest rotated file, else the chain's start. */
  static Chain.Link resume(Path path) throws IOException {
    List<Path> candidates = new ArrayList<>();
    candidates.add(path);
    List<Path> rotated = new ArrayList<>(rotatedFiles(path));
    java.util.Collections.reverse(rotated);
    candidates.addAll(rotated);
    for (Path p : candidates) {
      if (!Files.exists(p)) {
        continue;
      }
      Chain.Link link = lastLink(p, p.equals(path));
      if (link != null) {
        return link;
      }
    }
    return Chain.start();
  }

  /** The rotated files of {@code path}, oldest first. */
  static List<Path> rotatedFiles(Path path) throws IOException {
    Path dir = path.toAbsolutePath().getParent();
    String name = path.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = (dot > 0 ? name.substring(0, dot) : name) + "-";
    String ext = dot > 0 ? name.substring(dot) : "";
    if (dir == null || !Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> {
        String n = p.getFileName().toString();
        return n.startsWith(stem) && n.endsWith(ext) && n.length() == stem.length() + 19 + ext.length();
      }).sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
    }
  }

  private static Chain.@Nullable Link lastLink(Path p, boolean cutTornTail) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), cutTornTail ? "rw" : "r")) {
      long length = f.length();
      if (length == 0) {
        return null;
      }
      int n = (int) Math.min(length, TAIL);
      byte[] tail = new byte[n];
      f.seek(length - n);
      f.readFully(tail);
      int end = n;
      if (tail[n - 1] != '\n') {
        int lastNewline = lastIndexOf(tail, n - 1);
        long keep = lastNewline < 0 ? length - n : length - n + lastNewline + 1;
        if (cutTornTail) {
          LOG.warn("audit file {} ended in a torn line ({} bytes, from a process killed while writing): cut off", p,
              length - keep);
          f.setLength(keep);
        }
        end = lastNewline + 1;
        if (end <= 0) {
          return null;
        }
      }
      int start = lastIndexOf(tail, end - 2) + 1;
      byte[] line = java.util.Arrays.copyOfRange(tail, start, end);
      Chain.Unlinked u = Chain.unlink(line);
      if (u == null) {
        LOG.warn("audit file {}: its last line carries no chain link (written by an older version?); a new chain starts", p);
        return Chain.start();
      }
      return u.link();
    }
  }

  private static int lastIndexOf(byte[] b, int from) {
    for (int i = from; i >= 0; i--) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
