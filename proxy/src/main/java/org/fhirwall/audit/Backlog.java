package org.fhirwall.audit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lines a failing destination still owes, oldest first: in memory (bounded by a line count), or
 * spooled to a file of its own (bounded by bytes; what is in it survives a restart and is delivered
 * then — at least once: lines delivered just before a crash may be delivered again). Owned by the
 * audit writer's thread.
 */
abstract sealed class Backlog implements AutoCloseable permits Backlog.Memory, Backlog.Spool {
  private static final Logger LOG = LoggerFactory.getLogger(Backlog.class);

  /** Lines owed. */
  abstract long size();

  boolean isEmpty() {
    return size() == 0;
  }

  /** Adds lines at the end; returns how many did not fit (they are lost: the caller counts them). */
  abstract int add(List<byte[]> lines);

  /** Up to {@code max} lines from the head, not yet removed. */
  abstract List<byte[]> next(int max) throws IOException;

  /** Removes {@code n} lines from the head (delivered). */
  abstract void done(int n) throws IOException;

  @Override
  public void close() {}

  /** In memory, at most {@code capacity} lines. */
  static final class Memory extends Backlog {
    private final ArrayDeque<byte[]> lines = new ArrayDeque<>();
    private final int capacity;

    Memory(int capacity) {
      this.capacity = capacity;
    }

    @Override
    long size() {
      return lines.size();
    }

    @Override
    int add(List<byte[]> more) {
      int room = Math.max(0, capacity - lines.size());
      int taken = Math.min(room, more.size());
      lines.addAll(more.subList(0, taken));
      return more.size() - taken;
    }

    @Override
    List<byte[]> next(int max) {
      List<byte[]> out = new ArrayList<>(Math.min(max, lines.size()));
      for (byte[] l : lines) {
        if (out.size() == max) {
          break;
        }
        out.add(l);
      }
      return out;
    }

    @Override
    void done(int n) {
      for (int i = 0; i < n && !lines.isEmpty(); i++) {
        lines.removeFirst();
      }
    }
  }

  /** A spool file of newline-ended lines, at most {@code maxBytes}; read from {@code readAt}. */
  static final class Spool extends Backlog {
    private final Path path;
    private final long maxBytes;
    private final RandomAccessFile file;
    private long readAt;
    private long lines;
    private final List<Integer> pendingLengths = new ArrayList<>();

    Spool(Path path, long maxBytes) throws IOException {
      this.path = path;
      this.maxBytes = maxBytes;
      Files.createDirectories(path.toAbsolutePath().getParent());
      this.file = new RandomAccessFile(path.toFile(), "rw");
      long length = file.length();
      if (length > 0) {
        // A torn last line (a crash while spooling) is not a record.
        byte[] all = Files.readAllBytes(path);
        int end = all.length;
        while (end > 0 && all[end - 1] != '\n') {
          end--;
        }
        if (end < all.length) {
          file.setLength(end);
        }
        for (int i = 0; i < end; i++) {
          if (all[i] == '\n') {
            lines++;
          }
        }
        if (lines > 0) {
          LOG.warn("audit spool {} holds {} records from before the start: delivering them first", path, lines);
        }
      }
    }

    @Override
    long size() {
      return lines;
    }

    @Override
    int add(List<byte[]> more) {
      int taken = 0;
      try {
        long at = file.length();
        file.seek(at);
        for (byte[] l : more) {
          if (at + l.length > maxBytes) {
            break;
          }
          file.write(l);
          at += l.length;
          taken++;
        }
      } catch (IOException e) {
        LOG.error("audit spool {} cannot be written: {}", path, e.toString());
      }
      lines += taken;
      return more.size() - taken;
    }

    @Override
    List<byte[]> next(int max) throws IOException {
      List<byte[]> out = new ArrayList<>();
      pendingLengths.clear();
      long at = readAt;
      long length = file.length();
      while (out.size() < max && at < length) {
        int chunk = (int) Math.min(1 << 20, length - at);
        byte[] buf = new byte[chunk];
        file.seek(at);
        file.readFully(buf);
        int start = 0;
        for (int i = 0; i < chunk && out.size() < max; i++) {
          if (buf[i] == '\n') {
            out.add(java.util.Arrays.copyOfRange(buf, start, i + 1));
            pendingLengths.add(i + 1 - start);
            start = i + 1;
          }
        }
        if (start == 0) {
          if (chunk == length - at) {
            break; // no complete line left
          }
          throw new IOException(path + ": a line longer than 1 MiB");
        }
        at += start;
      }
      return out;
    }

    @Override
    void done(int n) throws IOException {
      for (int i = 0; i < n && i < pendingLengths.size(); i++) {
        readAt += pendingLengths.get(i);
      }
      lines -= Math.min(n, lines);
      pendingLengths.clear();
      if (readAt >= file.length()) {
        file.setLength(0);
        readAt = 0;
        lines = 0;
      }
    }

    @Override
    public void close() {
      try {
        file.close();
      } catch (IOException e) {
        LOG.error("audit spool {} could not be closed", path, e);
      }
    }
  }
}
