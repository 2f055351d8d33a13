package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;

/** Audit lines to a stream (standard output, for a platform that collects it): unchained, flushed per batch. */
final class StreamDestination implements Destination {
  private final OutputStream out;
  private final String name;

  StreamDestination(OutputStream out, String name) {
    this.out = requireNonNull(out, "out");
    this.name = requireNonNull(name, "name");
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void write(List<byte[]> lines, Instant now) throws IOException {
    for (byte[] line : lines) {
      out.write(line);
    }
    out.flush();
  }

  /** Flushes; standard output itself stays open for the rest of the process. */
  @Override
  public void close() throws IOException {
    out.flush();
  }
}
