package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends audit records as JSON lines (one {@code AuditEvent} per line) to an output stream, on a
 * thread of its own: {@link #write} only enqueues, so event loops never wait for the disk.
 *
 * <p>The queue is bounded; a record that finds it full is counted in {@link #dropped()} and
 * logged at error level (the metric and the log make a slow disk visible). {@link #close()}
 * stops accepting, writes every queued record, flushes and closes the stream.
 */
public final class JsonLinesAuditLog implements AuditSink {
  private static final Logger LOG = LoggerFactory.getLogger(JsonLinesAuditLog.class);

  private final BlockingQueue<AuditRecord> queue;
  private final OutputStream out;
  private final Thread writer;
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean closed;

  public JsonLinesAuditLog(OutputStream out, int capacity, String name) {
    this.out = requireNonNull(out, "out");
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.writer = new Thread(this::drain, "fhirwall-audit-" + name);
    this.writer.setDaemon(false);
    this.writer.start();
  }

  @Override
  public void write(AuditRecord record) {
    if (closed || !queue.offer(record)) {
      long n = dropped.incrementAndGet();
      LOG.error("audit record dropped (queue full or closed), {} dropped so far: {} {}", n, record.outcome(), record.target());
    }
  }

  @Override
  public long dropped() {
    return dropped.get();
  }

  private void drain() {
    List<AuditRecord> batch = new ArrayList<>(256);
    while (true) {
      try {
        AuditRecord first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (closed && queue.isEmpty()) {
            break;
          }
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, 255);
        for (AuditRecord r : batch) {
          out.write(AuditEventJson.line(r));
        }
        out.flush();
        batch.clear();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (IOException | RuntimeException e) {
        dropped.addAndGet(batch.size());
        LOG.error("audit write failed, {} records lost", batch.size(), e);
        batch.clear();
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      writer.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<AuditRecord> rest = new ArrayList<>();
    queue.drainTo(rest);
    try {
      for (AuditRecord r : rest) {
        out.write(AuditEventJson.line(r));
      }
      out.flush();
      out.close();
    } catch (IOException e) {
      dropped.addAndGet(rest.size());
      LOG.error("audit close failed, {} records lost", rest.size(), e);
    }
  }
}
