package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.parser.IParser;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.hl7.fhir.r4.model.Binary;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo EPR's bulk export jobs, run by an executor (in the server, one at a time on a daemon
 * thread of their own: {@link #onOwnThread}). A job reads
 * its resources from the {@link DemoStore} in one snapshot and stores them as NDJSON files, one
 * {@code Binary} ({@code application/fhir+ndjson}) per type and per {@value #RESOURCES_PER_FILE}
 * resources, with ids {@code {jobId}-{Type}-{n}} ({@code n} from 1); types without resources get
 * no file. Jobs are kept until cancelled; cancelling deletes their files.
 *
 * <p>Thread-safe. {@link #close()} stops the runner it owns; a job still running may finish.
 */
final class ExportJobs implements AutoCloseable {

  /** The most resources one file holds. */
  static final int RESOURCES_PER_FILE = 1_000;
  static final String NDJSON = "application/fhir+ndjson";
  private static final Logger LOG = LoggerFactory.getLogger(ExportJobs.class);

  private final DemoStore store;
  private final Executor runner;
  private final @Nullable ExecutorService owned;
  private final Map<String, ExportJob> jobs = new ConcurrentHashMap<>();

  /** Jobs run by {@code runner}, which the caller owns (tests pass one that runs them at once). */
  ExportJobs(DemoStore store, Executor runner) {
    this(store, runner, null);
  }

  private ExportJobs(DemoStore store, Executor runner, @Nullable ExecutorService owned) {
    this.store = requireNonNull(store, "store");
    this.runner = requireNonNull(runner, "runner");
    this.owned = owned;
  }

  /** Jobs run one at a time on a daemon thread of their own, stopped by {@link #close()}. */
  static ExportJobs onOwnThread(DemoStore store) {
    ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
      Thread runner = new Thread(task, "demo-export");
      runner.setDaemon(true);
      return runner;
    });
    return new ExportJobs(store, thread, thread);
  }

  /** Queues an export; answers the new job. */
  ExportJob submit(ExportRequest request) {
    ExportJob job = new ExportJob(UUID.randomUUID().toString(), request);
    jobs.put(job.id(), job);
    try {
      runner.execute(() -> run(job));
    } catch (RuntimeException e) {
      jobs.remove(job.id());
      throw e;
    }
    return job;
  }

  /** The job's status as a poll sees it; null when there is no such job (or it was cancelled). */
  ExportJob.@Nullable Status poll(String jobId) {
    ExportJob job = jobs.get(jobId);
    return job == null ? null : job.poll();
  }

  /** Cancels a job and deletes its files; false when there is no such job. */
  boolean cancel(String jobId) {
    ExportJob job = jobs.remove(jobId);
    if (job == null) {
      return false;
    }
    job.cancel().forEach(this::delete);
    return true;
  }

  @Override
  public void close() {
    if (owned != null) {
      owned.shutdownNow();
    }
  }

  private void run(ExportJob job) {
    try {
      if (job.cancelled()) {
        return;
      }
      ExportRequest request = job.request();
      DemoStore.ExportSnapshot snapshot = store.exportSnapshot(request.types(), request.scope(), request.since());
      IParser parser = store.context().newJsonParser();
      List<ExportJob.OutputFile> output = new ArrayList<>();
      for (Map.Entry<String, List<StoredVersion>> typed : snapshot.byType().entrySet()) {
        List<StoredVersion> versions = typed.getValue();
        for (int from = 0, n = 1; from < versions.size(); from += RESOURCES_PER_FILE, n++) {
          List<StoredVersion> chunk = versions.subList(from, Math.min(versions.size(), from + RESOURCES_PER_FILE));
          String binaryId = job.id() + "-" + typed.getKey() + "-" + n;
          Binary file = new Binary();
          file.setContentType(NDJSON);
          file.setData(ndjson(parser, chunk));
          store.update("Binary", binaryId, file, null);
          if (!job.stored(binaryId)) {
            delete(binaryId);
            return;
          }
          output.add(new ExportJob.OutputFile(typed.getKey(), binaryId, chunk.size()));
        }
      }
      job.complete(snapshot.transactionTime(), output);
    } catch (RuntimeException e) {
      LOG.warn("Bulk export {} failed", job.id(), e);
      job.fail("The export failed: " + e.getClass().getSimpleName()).forEach(this::delete);
    }
  }

  private static byte[] ndjson(IParser parser, List<StoredVersion> versions) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(versions.size() * 1_024);
    for (StoredVersion version : versions) {
      out.writeBytes(parser.encodeResourceToString(version.copy()).getBytes(StandardCharsets.UTF_8));
      out.write('\n');
    }
    return out.toByteArray();
  }

  private void delete(String binaryId) {
    try {
      store.delete("Binary", binaryId, null);
    } catch (RuntimeException e) {
      LOG.warn("Bulk export file Binary/{} could not be deleted", binaryId, e);
    }
  }
}
