package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.RequestPatients;

/**
 * What a write (create, update, patch, delete) must not make the EPR do or tell beyond the role's plain rules
 * ({@link PolicyEngine} checks those first): the searches it makes the EPR run (a conditional write's criteria, the
 * conditional references in its body, or in an operation's) are held to the role's search rules, and a write whose
 * answer would tell of records it does not show must name their patients. Stateless and thread-safe.
 */
final class WriteChecks {
  private final SearchCheck search;
  private final RequestPatients patients;

  WriteChecks(SearchCheck search, RequestPatients patients) {
    this.search = requireNonNull(search, "search");
    this.patients = requireNonNull(patients, "patients");
  }

  /** The first rule a write breaks: its conditional criteria, the conditional references in its body, a patch's pin. */
  Optional<Violation> check(RolePolicy role, FhirRequest request) {
    Optional<Violation> v = request.conditional() ? checkConditional(role, request) : Optional.empty();
    if (v.isEmpty()) {
      v = checkConditionalReferences(role, request);
    }
    if (v.isEmpty()) {
      v = checkReferencePins(role, request);
    }
    return v.isPresent() || request.interaction() != Interaction.PATCH ? v : checkPatch(role, request);
  }

  /**
   * A conditional write is a search the EPR runs, and its answer tells whether the criteria matched none, one or
   * several records (412) even when it shows none: its criteria are held to the role's search rules
   * ({@link SearchCheck#checkCriteria}), and a conditional delete, whose answer never carries the record it matched
   * and deleted, must name the patients of every record it can match (they are charged, like a count's), unless its
   * type holds no patient's records. So must a conditional update of a type whose records belong to patients (not
   * Patient, whose answer shows the patient it matched): its answer shows what was written, and a 200 rather than a
   * 201 or 400 ("did not satisfy the conditional URL") told that a record matched ({@code PUT Observation?_id=o23&code=
   * http://loinc.org|8310-5}: o23 is that test, whosever it was, adversarial sweep 8).
   */
  private Optional<Violation> checkConditional(RolePolicy role, FhirRequest request) {
    String type = requireNonNull(request.resourceType(), "resourceType");
    List<QueryParam> criteria = request.interaction() == Interaction.CREATE ? request.ifNoneExist() : request.params();
    Optional<Violation> v = search.checkCriteria(role, type, criteria);
    if (v.isPresent()) {
      return v;
    }
    if (request.interaction() == Interaction.UPDATE && patients.needsCriterion(type) && !patients.pinsEveryMatch(request)) {
      return forbid("conditional-update", "A conditional update of " + type + " must name the patient of every record it "
          + "can match for role " + role.name() + " (e.g. " + type + "?identifier=...&subject=Patient/123), or update by "
          + "id: its answer shows what was written, not whose record it replaced");
    }
    if (request.interaction() != Interaction.DELETE) {
      return v;
    }
    boolean holdsPatients = type.equals("Patient") || patients.needsCriterion(type);
    if (holdsPatients && !patients.pinsEveryMatch(request)) {
      return forbid("conditional-delete", "A conditional delete of " + type + " must name the patient of every record "
          + "it can match for role " + role.name() + " (e.g. " + (type.equals("Patient") ? "Patient?_id=123"
          : type + "?subject=Patient/123&identifier=...") + "), or delete by id");
    }
    return Optional.empty();
  }

  /**
   * A patch is applied to what the record held, and its answer tells what that was: a JSON Patch {@code test} (or an
   * operation on a path the record lacks) that fails is refused with the EPR's words ("value differs from
   * expectations" against HAPI FHIR 8.8's JPA server, "no such path in target JSON document" for the next operation
   * once it passed), and the record shown after a patch that succeeds need not name whose it was (the patch may have
   * replaced its {@code subject}). So a patch of a type that holds patients' records must name the patient of every
   * record it can change, like a conditional delete ({@code Patient/123}, {@code Patient?_id=123},
   * {@code Observation?_id=o1&subject=Patient/123}); those patients are charged with any answer.
   */
  private Optional<Violation> checkPatch(RolePolicy role, FhirRequest request) {
    String type = requireNonNull(request.resourceType(), "resourceType");
    boolean holdsPatients = type.equals("Patient") || patients.needsCriterion(type);
    // an instance's query parameters select nothing (the EPR patches the record the path names): only Patient/123 names it
    boolean pinned = request.id() != null ? type.equals("Patient") : patients.pinsEveryMatch(request);
    if (holdsPatients && !pinned) {
      return forbid("patch-unpinned", "A patch of " + type + " must name the patient of every record it can change for "
          + "role " + role.name() + " (e.g. " + (type.equals("Patient") ? "Patient/123 or Patient?_id=123"
          : type + "?_id=...&subject=Patient/123") + "): what a patch finds in a record tells of its patient");
    }
    return Optional.empty();
  }

  /**
   * The conditional references in a written resource ({@code "subject": {"reference": "Patient?identifier=..."}}), or
   * in an operation's body (what it writes, the searches its parameters name), are searches the EPR runs when it writes, and its answer (the one match written in, 412 for several, 404 for none) tells
   * about the records they matched: each is held to the role's search rules like a conditional write's criteria
   * ({@link SearchCheck#checkCriteria}), and the type it searches must be one the role may access.
   */
  Optional<Violation> checkConditionalReferences(RolePolicy role, FhirRequest request) {
    for (FhirRequest.ConditionalReference ref : request.body().conditionalReferences()) {
      String where = "A conditional reference in the body (" + ref.type() + "?...): ";
      if (!role.allowsType(ref.type())) {
        return forbid("resource-types", where + "role " + role.name() + " may not access " + ref.type() + " resources");
      }
      Optional<Violation> v = search.checkCriteria(role, ref.type(), ref.criteria());
      if (v.isPresent()) {
        return Optional.of(v.get().about(where));
      }
    }
    return Optional.empty();
  }

  /**
   * A conditional reference in a written resource is resolved by the EPR like one to Patient, but the record written
   * shows only the id it resolved to ({@code "hasMember": [{"reference": "Observation/o23"}]}), never whose record
   * that is: {@code Observation?_id=o23&code=http://loinc.org|8310-5} was written (201) when o23 is that test and
   * refused (404) when not, against HAPI FHIR 8.8's JPA server, charging nobody (adversarial sweep 9). So one to a type
   * that holds patients' records must name the patient of every record it can match, like a conditional update; the
   * patients it names are charged. One to Patient (the record written shows whom it matched) or to a type that holds
   * no patient's records is judged by the search rules alone. So is one in a resource an operation's body carries
   * ({@code $process-message}'s message); a search-shaped parameter of an operation (an export's {@code _typeFilter},
   * a {@code url}) is not held to this: what it finds, it shows.
   */
  Optional<Violation> checkReferencePins(RolePolicy role, FhirRequest request) {
    for (FhirRequest.ConditionalReference ref : request.body().conditionalReferences()) {
      if (ref.written() && patients.needsCriterion(ref.type()) && !patients.pinsEveryMatch(ref.type(), ref.criteria())) {
        return forbid("conditional-reference", "A conditional reference to " + ref.type() + " in a written resource "
            + "must name the patient of every record it can match for role " + role.name() + " (e.g. " + ref.type()
            + "?identifier=...&subject=Patient/123), or refer by id: the record written shows which " + ref.type()
            + " it matched, not whose");
      }
    }
    return Optional.empty();
  }

  private static Optional<Violation> forbid(String rule, String message) {
    return Optional.of(Violation.forbidden(rule, message));
  }
}
