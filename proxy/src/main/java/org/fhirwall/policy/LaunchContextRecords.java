package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.ResourceId;
import org.fhirwall.fhir.RequestPatients;
import org.jspecify.annotations.Nullable;

/**
 * Under a SMART {@code patient} launch context, what an update or a delete by id replaces ({@code PUT Observation/1},
 * {@code DELETE Observation/1}) is the EPR's record, unknown to the request: fhirwall reads it first (its own GET, never
 * shown to the client nor charged) and lets the write go only when the record is the context patient's alone, made
 * conditional on the version it read. This class says which record to read ({@link #toReadFirst}) and judges what the
 * read found ({@link #judge}); the {@code server} stage does the reading.
 *
 * <p>The one place the policy decides on the EPR's data, and only on fhirwall's own read: the refusal tells the app no
 * more than that a record with that id exists and is not its patient's (never whose). Everything fhirwall cannot tell
 * (a failed or unreadable read, a record without owner or without version) is refused (fail closed). A {@code Patient}
 * is judged by its id before the EPR is asked ({@link SmartScopes}); a type outside the Patient compartment holds no
 * patient's record. Pure and thread-safe.
 */
public final class LaunchContextRecords {
  static final String RULE = "smart-patient-context:write";

  private LaunchContextRecords() {}

  /** What fhirwall's read of the record found, as plain values. */
  public sealed interface Found {
    /** No such record (404), or a deleted one (410). */
    record Absent(int status) implements Found {}

    /**
     * The record: its type as the EPR answered it, the patients the response inspector names in it (those it would
     * charge), its version ({@code ETag} or {@code meta.versionId}, without {@code W/} and quotes), null when the EPR
     * gave none.
     */
    record Record(@Nullable String type, Set<String> patients, @Nullable String version) implements Found {
      public Record {
        patients = Set.copyOf(patients);
      }
    }

    /** The read failed or could not be read (5xx, another status, timeout, not FHIR JSON): {@code why}, patient-free. */
    record Unknown(String why) implements Found {
      public Unknown {
        requireNonNull(why, "why");
      }
    }
  }

  /** What to do with the write, with a patient-free note for the audit record. */
  public sealed interface Verdict {
    String note();

    /** Forward, with {@code ifMatch} as the request's {@code If-Match} (null: as the client sent it, or none). */
    record Forward(@Nullable String ifMatch, String note) implements Verdict {}

    /** The client's own {@code If-Match} names another version than the one read: 412, the EPR is not asked. */
    record Stale(String note) implements Verdict {}

    /** Refused before the EPR writes. */
    record Refuse(Decision.Deny deny, String note) implements Verdict {}
  }

  /**
   * The record to read before {@code request} is forwarded: an update or delete by id of a Patient-compartment type
   * (not a Patient) by a principal with a launch context; empty for every other request.
   */
  public static Optional<ResourceId> toReadFirst(Principal p, FhirRequest request, RequestPatients patients) {
    if (p.patientContext() == null || !replacesById(request, patients)) {
      return Optional.empty();
    }
    return Optional.of(new ResourceId(requireNonNull(request.resourceType(), "resourceType"),
        requireNonNull(request.id(), "id")));
  }

  /** Whether {@code r} is an update or a delete by id of a type whose records belong to patients (a Patient aside). */
  static boolean replacesById(FhirRequest r, RequestPatients patients) {
    return (r.interaction() == Interaction.UPDATE || r.interaction() == Interaction.DELETE) && !r.conditional()
        && r.id() != null && r.resourceType() != null && patients.needsCriterion(r.resourceType());
  }

  /**
   * What to do with {@code request} (see {@link #toReadFirst}) given what the read of its record found: a record that
   * does not exist is created by an update (whose body was checked) and not deleted by a delete, so both go; the context
   * patient's record, naming no other patient, goes conditional on the version read; anything else is refused.
   *
   * @param clientIfMatch the {@code If-Match} the client sent, null when none
   */
  public static Verdict judge(Principal p, FhirRequest request, Found found, @Nullable String clientIfMatch) {
    String context = requireNonNull(p.patientContext(), "patientContext");
    String type = requireNonNull(request.resourceType(), "resourceType");
    String about = "pre-read " + type + ": ";
    if (found instanceof Found.Absent absent) {
      return new Verdict.Forward(null, about + "no such record (" + absent.status() + "), the "
          + request.interaction().code() + " goes as asked");
    }
    if (found instanceof Found.Unknown unknown) {
      return refuse(about + "failed (" + unknown.why() + ")",
          "fhirwall could not read the record this " + request.interaction().code() + " replaces");
    }
    Found.Record record = (Found.Record) found;
    if (!type.equals(record.type())) {
      return refuse(about + "failed (the EPR answered a " + record.type() + ")",
          "fhirwall could not read the record this " + request.interaction().code() + " replaces");
    }
    if (record.patients().isEmpty()) {
      return refuse(about + "no patient's record", "the record this " + request.interaction().code()
          + " replaces names no patient as its owner");
    }
    if (!record.patients().equals(Set.of("Patient/" + context))) {
      return refuse(about + "another patient's record", "the record this " + request.interaction().code()
          + " replaces is not its patient's alone");
    }
    String version = record.version();
    if (version == null) {
      return refuse(about + "the context patient's record, without a version",
          "the EPR gave no version of the record, so the " + request.interaction().code() + " cannot be made conditional");
    }
    String ifMatch = "W/\"" + version + "\"";
    if (clientIfMatch != null) {
      return version.equals(versionOf(clientIfMatch))
          ? new Verdict.Forward(null, about + "the context patient's record, version " + version + ", the client's If-Match")
          : new Verdict.Stale(about + "the context patient's record, version " + version + ", not the client's If-Match");
    }
    return new Verdict.Forward(ifMatch, about + "the context patient's record, version " + version + ", sent with If-Match");
  }

  /**
   * What a delete by id of the context patient's record (as {@link #judge} found it) is sent as: a conditional delete of
   * that id pinned to the context patient ({@code DELETE Observation?_id=1&patient=Patient/7}), so the EPR deletes the
   * record only if it still is that patient's when it deletes, whether it honours {@code If-Match} or not (HAPI FHIR's
   * JPA server does not on delete). Empty for any other request, and for a type no one parameter pins to a patient
   * ({@link RequestPatients#pinParameter}): then the delete goes by id, with {@code If-Match} alone.
   */
  public static Optional<List<QueryParam>> pinnedDelete(Principal p, FhirRequest request, RequestPatients patients) {
    String context = p.patientContext();
    if (context == null || request.interaction() != Interaction.DELETE || request.conditional() || request.id() == null
        || request.resourceType() == null) {
      return Optional.empty();
    }
    String pin = patients.pinParameter(request.resourceType());
    return pin == null ? Optional.empty()
        : Optional.of(List.of(new QueryParam("_id", request.id()), new QueryParam(pin, "Patient/" + context)));
  }

  /** The version an {@code ETag} or {@code If-Match} names: {@code W/"3"} and {@code "3"} are {@code 3}. */
  public static String versionOf(String etag) {
    String v = etag.strip();
    if (v.startsWith("W/") || v.startsWith("w/")) {
      v = v.substring(2);
    }
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    return v;
  }

  private static Verdict refuse(String note, String why) {
    return new Verdict.Refuse(new Decision.Deny(Decision.Kind.FORBIDDEN, RULE, "The app's launch context is one patient; "
        + why + ": refused before the EPR writes"), note);
  }
}
