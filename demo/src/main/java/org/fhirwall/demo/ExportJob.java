package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One bulk export job: its request, the files it has stored so far, and what a poll sees. The
 * first poll always sees it in progress (so a client really polls, as against a real EPR); later
 * polls see it in progress, complete or failed. Once cancelled it takes no more files: the
 * canceller deletes those already recorded, the runner any it stores afterwards.
 *
 * <p>Thread-safe: every transition under the job's monitor.
 */
final class ExportJob {

  /** What a poll answers. */
  sealed interface Status {
    /** Still running (or not polled before): 202. */
    record InProgress() implements Status {}

    /** Done: the manifest's transaction time, kick-off URL and files, in request order. */
    record Complete(Instant transactionTime, String request, List<OutputFile> output) implements Status {
      public Complete {
        requireNonNull(transactionTime, "transactionTime");
        requireNonNull(request, "request");
        output = List.copyOf(output);
      }
    }

    /** Ended in an error; {@code reason} is safe to show the client. */
    record Failed(String reason) implements Status {}
  }

  /** One NDJSON file of the manifest: the Binary holding {@code count} resources of {@code type}. */
  record OutputFile(String type, String binaryId, int count) {}

  private static final Status IN_PROGRESS = new Status.InProgress();

  private final String id;
  private final ExportRequest request;
  // Guarded by this.
  private final List<String> stored = new ArrayList<>();
  private Status status = IN_PROGRESS;
  private boolean polled;
  private boolean cancelled;

  ExportJob(String id, ExportRequest request) {
    this.id = requireNonNull(id, "id");
    this.request = requireNonNull(request, "request");
  }

  String id() {
    return id;
  }

  ExportRequest request() {
    return request;
  }

  /** The status a poll answers; the first poll is always in progress. */
  synchronized Status poll() {
    if (!polled) {
      polled = true;
      return IN_PROGRESS;
    }
    return status;
  }

  synchronized boolean cancelled() {
    return cancelled;
  }

  /** Records a stored file; false when the job was cancelled meanwhile (the caller then deletes it). */
  synchronized boolean stored(String binaryId) {
    if (cancelled) {
      return false;
    }
    stored.add(binaryId);
    return true;
  }

  synchronized void complete(Instant transactionTime, List<OutputFile> output) {
    if (!cancelled) {
      status = new Status.Complete(transactionTime, request.requestUrl(), output);
    }
  }

  /** Marks the job failed and answers the files it had stored (to delete). */
  synchronized List<String> fail(String reason) {
    status = new Status.Failed(reason);
    return drain();
  }

  /** Cancels the job and answers the files it had stored (to delete); later files are refused. */
  synchronized List<String> cancel() {
    cancelled = true;
    return drain();
  }

  private List<String> drain() {
    List<String> files = List.copyOf(stored);
    stored.clear();
    return files;
  }
}
