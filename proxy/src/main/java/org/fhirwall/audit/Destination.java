package org.fhirwall.audit;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * Where the audit writer puts its batches: the file, standard output, a syslog server. Called only
 * from the writer's thread, so implementations need no locking. A method that throws leaves the
 * destination failing: the writer keeps the lines it could not write and offers them again.
 */
interface Destination extends AutoCloseable {

  /** A short name for logs and metrics ({@code file}, {@code stdout}, {@code syslog}). */
  String name();

  /** Writes the lines (each an unchained audit line, newline included) in order. */
  void write(List<byte[]> lines, Instant now) throws IOException;

  /** Periodic work (fsync, rotation by age, checkpoints); called at least every 200 ms. */
  default void tick(Instant now) throws IOException {}

  /** Reopens whatever the destination keeps open ({@code SIGHUP}, after an external rotation). */
  default void reopen() throws IOException {}

  /** A write that failed after its first {@code written} lines were written (they must not be offered again). */
  final class PartialWrite extends IOException {
    final int written;

    PartialWrite(int written, IOException cause) {
      super(cause.getMessage(), cause);
      this.written = written;
    }
  }

  /** Writes out and syncs everything, then closes. */
  @Override
  void close() throws IOException;
}
