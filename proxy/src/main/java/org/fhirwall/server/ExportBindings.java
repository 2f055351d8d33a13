package org.fhirwall.server;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.fhirwall.inspect.ExportHandles;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.policy.Decision;
import org.fhirwall.policy.ExportOwnership;
import org.fhirwall.policy.ExportOwnership.Bound;
import org.fhirwall.quota.Enforcement;
import org.fhirwall.respond.Plan;
import org.jspecify.annotations.Nullable;

/**
 * An exchange's bulk export steps (see {@link ExportOwnership}), each at most one round of store
 * calls, none for the requests and answers that touch no export: before the EPR is asked, whose the
 * job or file the request touches is; before an answer is charged, whose the Binary resources in
 * it are; before an answer leaves, what it hands over (a kick-off's job, a manifest's job and files)
 * is bound to the account. Stateless; the exchange awaits the stages on its loop.
 */
final class ExportBindings {
  private ExportBindings() {}

  /**
   * The judgement on what the request touches (a refusal, or none), or null when it touches nothing
   * an export binds (then nothing is looked up).
   */
  static @Nullable CompletionStage<Optional<Decision.Deny>> beforeEpr(Enforcement quota, Decision.Allow allow, Instant now) {
    ExportOwnership.Touch touch = ExportOwnership.touch(allow.request());
    if (touch instanceof ExportOwnership.Touch.Refused refused) {
      return CompletableFuture.completedFuture(Optional.of(refused.deny()));
    }
    if (touch instanceof ExportOwnership.Touch.Claims claims) {
      return judged(quota, allow.account(), claims.bound(), now);
    }
    return null;
  }

  /** What the audit record of a cancel (a {@code DELETE} of a job's status URL) says of it; null for any other request. */
  static @Nullable String cancelNote(Decision.Allow allow) {
    return ExportOwnership.cancels(allow.request())
        .map(job -> "bulk export: cancel of job " + job.id() + " (DELETE of its status URL)").orElse(null);
  }

  /**
   * The judgement on the Binary resources of an answer that were not judged before the EPR was
   * asked (a search, a batch, a history finds files by what it matches), or null when there are none.
   */
  static @Nullable CompletionStage<Optional<Decision.Deny>> inAnswer(Enforcement quota, Decision.Allow allow,
      Inspection.Read read, Instant now) {
    if (read.binaries().isEmpty()) {
      return null;
    }
    ExportOwnership.Touch touch = ExportOwnership.touch(allow.request());
    List<Bound> files = ExportOwnership.inAnswer(read.binaries(),
        touch instanceof ExportOwnership.Touch.Claims c ? c.bound() : List.of());
    return files.isEmpty() ? null : judged(quota, allow.account(), files, now);
  }

  private static CompletionStage<Optional<Decision.Deny>> judged(Enforcement quota, String account, List<Bound> bound,
      Instant now) {
    List<String> keys = bound.stream().map(Bound::key).toList();
    return quota.owners(keys, now).thenApply(owners -> {
      Map<Bound, Optional<String>> byBound = new LinkedHashMap<>();
      bound.forEach(b -> byBound.put(b, owners.get(b.key())));
      return ExportOwnership.judge(account, byBound);
    });
  }

  /** What an answer hands over of an export, to bind to the account before it leaves. */
  sealed interface Handover {
    /** Nothing (most answers). */
    record None() implements Handover {}

    /** A job or file in a form fhirwall cannot bind ({@code reason} names which): the answer is withheld. */
    record Unbindable(String reason) implements Handover {}

    /** These, bound to the account before the answer leaves; {@code note} says so in the audit record. */
    record Binds(List<Bound> bound, String note) implements Handover {
      public Binds {
        bound = List.copyOf(bound);
      }

      List<String> keys() {
        return bound.stream().map(Bound::key).toList();
      }

      /** The refusal when any of these is held by another account ({@code others}: their keys). */
      Optional<Decision.Deny> heldByOthers(List<String> others) {
        return bound.stream().filter(b -> others.contains(b.key())).findFirst().map(ExportOwnership::notYours);
      }
    }
  }

  /**
   * What {@code a} hands over: a kick-off's 202 its job (named by its {@code Content-Location}), a
   * poll's completion manifest its job and every file (output, error, deleted).
   */
  static Handover handover(Decision.Allow allow, Plan plan, EprAnswer a, String upstreamBase) {
    String hours = Enforcement.EXPORT_BINDING.toHours() + "h";
    if ("export".equals(allow.request().operation()) && a.status() == 202) {
      String statusUrl = a.header("Content-Location");
      Optional<String> job = statusUrl == null ? Optional.empty() : ExportHandles.jobOf(statusUrl, upstreamBase);
      if (job.isEmpty()) {
        return new Handover.Unbindable("status-url");
      }
      return new Handover.Binds(List.of(new ExportOwnership.Job(job.get())),
          "bulk export: job " + job.get() + " bound to this account for " + hours);
    }
    if (plan.bulkManifest() && a.status() == 200) {
      Optional<List<String>> files = ExportHandles.filesOf(a.body(), upstreamBase);
      ExportOwnership.Touch touch = ExportOwnership.touch(allow.request());
      if (files.isEmpty() || !(touch instanceof ExportOwnership.Touch.Claims claims)) {
        return new Handover.Unbindable("manifest");
      }
      List<Bound> bound = new ArrayList<>(claims.bound());
      files.get().forEach(id -> bound.add(new ExportOwnership.File(id)));
      return new Handover.Binds(bound, "bulk export: job and " + files.get().size() + " file(s) bound to this account for "
          + hours);
    }
    return new Handover.None();
  }
}
