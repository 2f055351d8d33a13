package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.fhir.QueryParam;

/**
 * Which searches must name their patient, and which parameters do. A type in the Patient
 * compartment (other than {@code Patient} itself, which is how a patient is found) must be
 * searched with a parameter that pins every value to a patient: {@code subject}, {@code patient}
 * or another parameter that gives Patient-compartment membership in HAPI FHIR's model
 * ({@code Group.member}, {@code Appointment.actor}, ...), without chain, whose every OR-value is a
 * {@code Patient/<id>} reference (or a bare id where the parameter can only mean a patient:
 * {@code patient=<id>}, {@code subject:Patient=<id>}). Immutable and thread-safe.
 */
final class PatientCriteria {
  /** The R4 model, read once (walks HAPI FHIR's resource definitions). */
  static final PatientCriteria R4 = new PatientCriteria(FhirContext.forR4Cached());

  private static final String PATIENT = "Patient";
  private static final Pattern REFERENCE = Pattern.compile(
      "(?:[A-Za-z][A-Za-z0-9+.-]*://[^?#\\s,]*/)?Patient/[A-Za-z0-9\\-.]{1,64}(?:/_history/[A-Za-z0-9\\-.]{1,64})?");
  private static final Pattern BARE_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  private final PatientCompartment compartment;
  private final Map<String, Set<String>> memberParameters;

  PatientCriteria(FhirContext context) {
    requireNonNull(context, "context");
    this.compartment = PatientCompartment.from(context);
    Map<String, Set<String>> params = new HashMap<>();
    for (String type : context.getResourceTypes()) {
      Set<String> names = new LinkedHashSet<>();
      names.add("patient");
      names.add("subject");
      for (RuntimeSearchParam p : context.getResourceDefinition(type).getSearchParams()) {
        Set<String> in = p.getProvidesMembershipInCompartments();
        if (in != null && in.contains(PATIENT)) {
          names.add(p.getName());
        }
      }
      params.put(type, Set.copyOf(names));
    }
    this.memberParameters = Map.copyOf(params);
  }

  /** Whether a search of {@code type} must carry a patient criterion. */
  boolean needsCriterion(String type) {
    return !PATIENT.equals(type) && compartment.inCompartment(type);
  }

  /** Whether {@code p}, in a search of {@code type}, names only patients. */
  boolean isCriterion(String type, QueryParam p) {
    if (p.chain() != null || p.name().startsWith("_has:")) {
      return false;
    }
    String base = p.baseName();
    if (!memberParameters.getOrDefault(type, Set.of("patient", "subject")).contains(base)) {
      return false;
    }
    String modifier = p.modifier();
    boolean bareIdIsPatient;
    if (modifier == null) {
      bareIdIsPatient = base.equals("patient");
    } else if (modifier.equals(PATIENT)) {
      bareIdIsPatient = true;
    } else {
      return false;
    }
    for (String v : p.orValues()) {
      if (!REFERENCE.matcher(v).matches() && !(bareIdIsPatient && BARE_ID.matcher(v).matches())) {
        return false;
      }
    }
    return true;
  }
}
