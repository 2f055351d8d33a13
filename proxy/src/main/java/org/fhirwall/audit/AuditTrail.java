package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit writer: {@link #write} puts a record on a bounded queue (never blocking an event
 * loop); one thread of its own takes records off it in batches of up to 512, turns each into its
 * line once ({@link AuditEventJson}) and hands the batch to every destination — the file
 * ({@link AuditFile}: chained, rotated, synced), standard output, a syslog server — so several
 * sinks are written at once.
 *
 * <p>A destination that fails (a full disk, an unreachable server) keeps the lines it owes in
 * memory, up to the queue's capacity, and is retried with backoff (1 s doubling to 30 s); the
 * others go on. While any destination fails, {@link #problem()} says so (readiness) and, with
 * {@link OnFailure#REFUSE}, {@link #accepting()} is false: the request path refuses new requests
 * with 503 rather than serve them unaudited. With {@link OnFailure#ALARM} requests go on; records
 * a failing destination cannot hold any more, or that find the queue full, are counted in
 * {@link #dropped()} and logged at error level — never silently. {@link #close()} stops accepting,
 * writes every queued record to every destination that takes it, syncs and closes them.
 *
 * <p>Thread-safe.
 */
public final class AuditTrail implements AuditSink {
  private static final Logger LOG = LoggerFactory.getLogger(AuditTrail.class);
  private static final int BATCH = 512;
  /** How long the writer waits after a partial batch before it takes the next (records gather). */
  private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  /** What the deployment chose for a destination that does not take records. */
  public enum OnFailure {
    /** Keep serving; the failure shows in readiness, metrics and the error log. */
    ALARM,
    /** Refuse requests with 503 until every destination takes records again (a complete trail). */
    REFUSE
  }

  /** Where failing destinations spool their records, and how much each may spool. */
  public record SpoolSettings(Path dir, long maxSize) {}

  /** How the file is written. */
  public record FileSettings(Path path, long maxSize, Duration rotateEvery, Duration fsyncInterval,
      byte @Nullable [] checkpointKey, int checkpointRecords, Duration checkpointEvery) {}

  private final ArrayBlockingQueue<AuditRecord> queue;
  private final int capacity;
  private final OnFailure onFailure;
  private final Clock clock;
  private final List<Destination> destinations;
  private final List<Backlog> owed = new ArrayList<>();
  private final List<Instant> retryAt = new ArrayList<>();
  private final List<Duration> backoff = new ArrayList<>();
  private final Map<String, String> failing = new ConcurrentHashMap<>();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong owedLines = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;
  private volatile boolean reopen;

  AuditTrail(List<Destination> destinations, int capacity, OnFailure onFailure, Clock clock) throws IOException {
    this(destinations, capacity, onFailure, clock, null);
  }

  /** @param spool where failing destinations spool their records ({@code NAME.spool} each), null to hold them in memory */
  AuditTrail(List<Destination> destinations, int capacity, OnFailure onFailure, Clock clock, @Nullable SpoolSettings spool)
      throws IOException {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
    }
    this.destinations = List.copyOf(destinations);
    this.capacity = capacity;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.onFailure = requireNonNull(onFailure, "onFailure");
    this.clock = requireNonNull(clock, "clock");
    Instant now = clock.instant();
    for (Destination d : this.destinations) {
      Backlog b = spool == null ? new Backlog.Memory(capacity)
          : new Backlog.Spool(spool.dir().resolve(d.name() + ".spool"), spool.maxSize());
      owed.add(b);
      owedLines.addAndGet(b.size());
      retryAt.add(now);
      backoff.add(Duration.ofSeconds(1));
    }
    this.writer = new Thread(this::run, "fhirwall-audit");
    this.writer.setDaemon(false);
    this.writer.start();
  }

  /**
   * A trail to the file (when {@code file} is set) and to {@code stdout} (when set), both at once.
   *
   * @throws IOException when the file cannot be opened
   */
  public static AuditTrail open(@Nullable FileSettings file, @Nullable OutputStream stdout, int capacity, OnFailure onFailure,
      Clock clock) throws IOException {
    return open(file, stdout, null, capacity, onFailure, clock);
  }

  /** A syslog server over TLS (RFC 5425) that receives every record. */
  public record SyslogSettings(String host, int port, @Nullable Path caFile, Duration timeout) {}

  /** A FHIR audit repository that receives every record in batch Bundles. */
  public record RepositorySettings(java.net.URI base, @Nullable String bearer, Duration timeout) {}

  public static AuditTrail open(@Nullable FileSettings file, @Nullable OutputStream stdout, @Nullable SyslogSettings syslog,
      int capacity, OnFailure onFailure, Clock clock) throws IOException {
    return open(file, stdout, syslog, null, capacity, onFailure, clock);
  }

  /**
   * A trail to the file, standard output, a syslog server and a FHIR audit repository, each when
   * set, all at once.
   *
   * @throws IOException when the file cannot be opened or the syslog CA file read
   */
  public static AuditTrail open(@Nullable FileSettings file, @Nullable OutputStream stdout, @Nullable SyslogSettings syslog,
      @Nullable RepositorySettings repository, int capacity, OnFailure onFailure, Clock clock) throws IOException {
    return open(file, stdout, syslog, repository, null, capacity, onFailure, clock);
  }

  /** As above, with failing destinations spooling to {@code spool} (null: in memory). */
  public static AuditTrail open(@Nullable FileSettings file, @Nullable OutputStream stdout, @Nullable SyslogSettings syslog,
      @Nullable RepositorySettings repository, @Nullable SpoolSettings spool, int capacity, OnFailure onFailure, Clock clock)
      throws IOException {
    List<Destination> d = new ArrayList<>();
    if (repository != null) {
      d.add(new FhirRepositoryDestination(repository.base(), repository.bearer(), repository.timeout()));
    }
    if (syslog != null) {
      d.add(new SyslogDestination(syslog.host(), syslog.port(), syslog.caFile(), syslog.timeout()));
    }
    if (file != null) {
      d.add(AuditFile.open(new AuditFile.Settings(file.path(), file.maxSize(), file.rotateEvery(), file.fsyncInterval(),
          file.checkpointKey(), file.checkpointRecords(), file.checkpointEvery()), clock.instant()));
    }
    if (stdout != null) {
      d.add(new StreamDestination(stdout, "stdout"));
    }
    if (d.isEmpty()) {
      throw new IllegalArgumentException("no audit destination (expected: a file, stdout or syslog)");
    }
    return new AuditTrail(d, capacity, onFailure, clock, spool);
  }

  @Override
  public void write(AuditRecord record) {
    if (closed || !queue.offer(record)) {
      long n = dropped.incrementAndGet();
      if (n <= 10 || n % 1000 == 0) {
        // every drop is counted; the log says so for the first ones and every thousandth, not flooding itself
        LOG.error("audit record NOT written ({}), {} so far: {} {} {}", closed ? "the trail is closed" : "the queue is full", n,
            record.requestId(), record.outcome(), record.target());
      }
    }
  }

  @Override
  public boolean accepting() {
    return onFailure == OnFailure.ALARM || (failing.isEmpty() && queue.remainingCapacity() > 0);
  }

  /** Why the trail does not take records as it should (readiness), null while it does. */
  public @Nullable String problem() {
    if (!failing.isEmpty()) {
      return "audit destination failing: " + failing;
    }
    return queue.remainingCapacity() == 0 ? "audit queue full (" + capacity + " records)" : null;
  }

  /** Records waiting in the queue. */
  public int queueDepth() {
    return queue.size();
  }

  /** Lines failing destinations still owe (held in memory, written once they recover). */
  public long owed() {
    return owedLines.get();
  }

  /** Records written to the destinations. */
  public long written() {
    return written.get();
  }

  /** Failed writes to a destination (each retried). */
  public long failures() {
    return failures.get();
  }

  @Override
  public long dropped() {
    return dropped.get();
  }

  /** {@code SIGHUP}: the writer reopens its files before its next batch. */
  public void reopen() {
    reopen = true;
  }

  private void run() {
    JsonLine scratch = new JsonLine(4096);
    List<AuditRecord> batch = new ArrayList<>(BATCH);
    List<byte[]> lines = new ArrayList<>(BATCH);
    while (true) {
      boolean wasClosed = closed;
      try {
        AuditRecord first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, BATCH - 1);
        }
      } catch (InterruptedException e) {
        // close() never interrupts; keep draining
      }
      for (AuditRecord r : batch) {
        try {
          lines.add(AuditEventJson.line(r, scratch));
        } catch (RuntimeException e) {
          dropped.incrementAndGet();
          LOG.error("audit record {} could not be written as JSON", r.requestId(), e);
        }
      }
      Instant now = clock.instant();
      if (reopen) {
        reopen = false;
        for (Destination d : destinations) {
          try {
            d.reopen();
          } catch (IOException | RuntimeException e) {
            LOG.error("audit destination {} could not be reopened", d.name(), e);
          }
        }
      }
      for (int i = 0; i < destinations.size(); i++) {
        deliver(i, lines, now, false);
      }
      written.addAndGet(lines.size());
      int taken = batch.size();
      batch.clear();
      lines.clear();
      if (wasClosed && queue.isEmpty()) {
        break;
      }
      if (taken > 0 && taken < BATCH && !closed) {
        // Let records gather for a moment: under load the request path then finds the writer busy
        // and enqueues without waking it for every record (a futex call each, on the event loop).
        LockSupport.parkNanos(LINGER_NANOS);
      }
    }
    // A record offered while close() was being called (the request path had not seen it yet).
    List<AuditRecord> late = new ArrayList<>();
    queue.drainTo(late);
    List<byte[]> lateLines = new ArrayList<>();
    for (AuditRecord r : late) {
      try {
        lateLines.add(AuditEventJson.line(r));
      } catch (RuntimeException e) {
        dropped.incrementAndGet();
        LOG.error("audit record {} could not be written as JSON", r.requestId(), e);
      }
    }
    written.addAndGet(lateLines.size());
    for (int i = 0; i < destinations.size(); i++) {
      deliver(i, lateLines, clock.instant(), true);
      try {
        destinations.get(i).close();
      } catch (IOException | RuntimeException e) {
        LOG.error("audit destination {} could not be closed", destinations.get(i).name(), e);
      }
      Backlog b = owed.get(i);
      if (!b.isEmpty()) {
        if (b instanceof Backlog.Spool) {
          LOG.warn("audit destination {} still failing at shutdown: {} records stay in its spool for the next start",
              destinations.get(i).name(), b.size());
        } else {
          dropped.addAndGet(b.size());
          LOG.error("audit destination {} still failing at shutdown: {} records not written to it",
              destinations.get(i).name(), b.size());
        }
      }
      b.close();
    }
  }

  private void deliver(int i, List<byte[]> lines, Instant now, boolean last) {
    Destination d = destinations.get(i);
    Backlog backlog = owed.get(i);
    try {
      if (backlog.isEmpty()) {
        try {
          if (!lines.isEmpty()) {
            d.write(lines, now);
          }
        } catch (IOException | RuntimeException e) {
          int done = e instanceof Destination.PartialWrite p ? p.written : 0;
          owe(d, backlog, lines.subList(done, lines.size()));
          throw e;
        }
      } else {
        owe(d, backlog, lines);
        if (!last && now.isBefore(retryAt.get(i))) {
          return;
        }
        while (!backlog.isEmpty()) {
          List<byte[]> chunk = backlog.next(BATCH);
          if (chunk.isEmpty()) {
            break;
          }
          try {
            d.write(chunk, now);
            settle(backlog, chunk.size());
          } catch (Destination.PartialWrite p) {
            settle(backlog, p.written);
            throw p;
          }
        }
      }
      d.tick(now);
      backoff.set(i, Duration.ofSeconds(1));
      if (failing.remove(d.name()) != null) {
        LOG.info("audit destination {} takes records again", d.name());
      }
    } catch (IOException | RuntimeException e) {
      failures.incrementAndGet();
      Duration wait = backoff.get(i);
      retryAt.set(i, now.plus(wait));
      backoff.set(i, wait.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : wait.multipliedBy(2));
      if (failing.put(d.name(), String.valueOf(e.getMessage())) == null) {
        LOG.error("audit destination {} fails ({}); {} records held for it, retried in {}", d.name(), e, backlog.size(), wait);
      }
    }
  }

  private void settle(Backlog backlog, int n) throws IOException {
    long before = backlog.size();
    backlog.done(n);
    owedLines.addAndGet(backlog.size() - before);
  }

  /** Lines a failing destination owes: into its backlog; what does not fit is dropped, counted and logged. */
  private void owe(Destination d, Backlog backlog, List<byte[]> lines) {
    if (lines.isEmpty()) {
      return;
    }
    long before = backlog.size();
    int over = backlog.add(lines);
    owedLines.addAndGet(backlog.size() - before);
    if (over > 0) {
      long n = dropped.addAndGet(over);
      LOG.error("audit destination {} has failed for longer than its {} holds: {} records NOT written to it ({} so far)",
          d.name(), backlog instanceof Backlog.Spool ? "spool" : "memory (" + capacity + " records)", over, n);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
