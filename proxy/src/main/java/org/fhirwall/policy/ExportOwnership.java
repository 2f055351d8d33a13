package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.QueryParam;

/**
 * Whose a bulk export is. Its job (polled, and cancelled, at {@code $export-poll-status?_jobId=})
 * and its files (the {@code Binary} resources its manifest lists) belong to the account that kicked
 * it off through fhirwall, and to no one else, whatever their role: the Bulk Data spec makes an
 * export's output the requesting client's alone. fhirwall records these bindings as it relays the
 * kick-off and the manifest; this class says which bindings a request or an answer touches, and
 * judges the owners found ({@value #RULE}, 403).
 *
 * <ul>
 *   <li>A job nobody is bound to (its kick-off never passed fhirwall, or its binding expired) is
 *       nobody's: refused, with the same answer as another account's job (no oracle).
 *   <li>A {@code Binary} nobody is bound to is an ordinary Binary: the role decides, as before.
 *   <li>A poll that names its job other than by one {@code _jobId} in the URL (none, several, in a
 *       body) is refused as it stands: fhirwall cannot tell whose job the EPR would answer for.
 *   <li>A cancel ({@code DELETE} of the status URL, see {@link #cancels}) is a poll here: the same job
 *       touched, the same judgement, the same refusal. The binding outlives the cancel (till it
 *       expires): the owner's later polls hear the EPR say the job is gone, anyone else's are refused.
 * </ul>
 *
 * <p>Always enforced, also for report-only roles (like the channels closed to users). Pure and
 * thread-safe: the owners are looked up by the caller.
 */
public final class ExportOwnership {
  /** The rule of every refusal of another account's (or nobody's) export. */
  public static final String RULE = "export-not-yours";
  static final String POLL = "export-poll-status";
  private static final Touch NOTHING = new Touch.Nothing();

  private ExportOwnership() {}

  /** What an export binds to the account that kicked it off; {@link #key()} is its key in the quota store. */
  public sealed interface Bound {
    String key();
  }

  /** A job, by the id its status URL names ({@code _jobId}). */
  public record Job(String id) implements Bound {
    public Job {
      requireNonNull(id, "id");
    }

    @Override
    public String key() {
      return "export-job:" + id;
    }
  }

  /** A file (or error file) of a job, by the id of the Binary that holds it. */
  public record File(String binaryId) implements Bound {
    public File {
      requireNonNull(binaryId, "binaryId");
    }

    @Override
    public String key() {
      return "export-file:" + binaryId;
    }
  }

  /** What a request touches of the exports, before it goes to the EPR. */
  public sealed interface Touch {
    /** Nothing an export binds (most requests). */
    record Nothing() implements Touch {}

    /** A poll whose job fhirwall cannot see: refused as it stands. */
    record Refused(Decision.Deny deny) implements Touch {}

    /** These jobs and files: their owners are looked up and {@link #judge judged} before the EPR is asked. */
    record Claims(List<Bound> bound) implements Touch {
      public Claims {
        bound = List.copyOf(bound);
      }
    }
  }

  /** What {@code request} (and each entry of a batch) touches: the job it polls, the Binary instance it addresses. */
  public static Touch touch(FhirRequest request) {
    if (request.entries().isEmpty() && !POLL.equals(request.operation())
        && !("Binary".equals(request.resourceType()) && request.id() != null)) {
      return NOTHING; // most requests: nothing allocated
    }
    List<Bound> bound = new ArrayList<>(1);
    Optional<Decision.Deny> unseen = collect(request, bound);
    if (unseen.isPresent()) {
      return new Touch.Refused(unseen.get());
    }
    return bound.isEmpty() ? new Touch.Nothing() : new Touch.Claims(bound);
  }

  private static Optional<Decision.Deny> collect(FhirRequest r, List<Bound> into) {
    if (POLL.equals(r.operation())) {
      List<QueryParam> jobs = r.paramsNamed("_jobId");
      if (jobs.size() != 1 || !r.body().isEmpty()) {
        return Optional.of(deny("An export status request names its job by one _jobId in the URL, and nothing else"));
      }
      into.add(new Job(jobs.get(0).value()));
    } else if ("Binary".equals(r.resourceType()) && r.id() != null) {
      into.add(new File(r.id()));
    }
    for (FhirRequest.BundleEntry e : r.entries()) {
      Optional<Decision.Deny> d = collect(e.request(), into);
      if (d.isPresent()) {
        return d;
      }
    }
    return Optional.empty();
  }

  /**
   * The job {@code request} cancels: a {@code DELETE} of its status URL naming one {@code _jobId}
   * (touched, and judged, like a poll of it); empty for any other request.
   */
  public static Optional<Job> cancels(FhirRequest request) {
    if (!"DELETE".equals(request.method()) || !POLL.equals(request.operation())) {
      return Optional.empty();
    }
    List<QueryParam> jobs = request.paramsNamed("_jobId");
    return jobs.size() == 1 ? Optional.of(new Job(jobs.get(0).value())) : Optional.empty();
  }

  /**
   * The refusal when any of {@code owners} (what was touched → whom the store says it is bound to)
   * is not {@code account}'s: a job bound to anyone else or to nobody, a file bound to anyone else.
   */
  public static Optional<Decision.Deny> judge(String account, Map<? extends Bound, Optional<String>> owners) {
    requireNonNull(account, "account");
    for (Map.Entry<? extends Bound, Optional<String>> e : owners.entrySet()) {
      Optional<String> owner = e.getValue();
      boolean mine = owner.map(account::equals).orElse(e.getKey() instanceof File);
      if (!mine) {
        return Optional.of(notYours(e.getKey()));
      }
    }
    return Optional.empty();
  }

  /** The refusal of {@code bound} to an account it is not bound to (the same whoever's, or nobody's, it is). */
  public static Decision.Deny notYours(Bound bound) {
    return deny("This bulk export " + (bound instanceof Job ? "job" : "file") + " is not yours: an export's status and files"
        + " are available only to the account that kicked it off through fhirwall");
  }

  /** The files among the Binary resources of an answer ({@code binaryIds}) not judged already ({@code judged}). */
  public static List<Bound> inAnswer(Collection<String> binaryIds, List<? extends Bound> judged) {
    List<Bound> out = new ArrayList<>(binaryIds.size());
    for (String id : binaryIds) {
      File f = new File(id);
      if (!judged.contains(f)) {
        out.add(f);
      }
    }
    return out;
  }

  private static Decision.Deny deny(String reason) {
    return new Decision.Deny(Decision.Kind.FORBIDDEN, RULE, reason);
  }
}
