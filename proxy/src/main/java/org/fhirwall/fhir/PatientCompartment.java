package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which resource types belong to the FHIR Patient compartment, and through which reference
 * elements ("owner paths"). Computed from HAPI FHIR's model: every search parameter of a resource
 * type whose {@link RuntimeSearchParam#getProvidesMembershipInCompartments()} names
 * {@code Patient} contributes its FHIRPath expression(s), reduced to plain JSON element names
 * ({@code Condition.subject.where(resolve() is Patient)} becomes {@code [subject]},
 * {@code Appointment.participant.actor} becomes {@code [participant, actor]}, a choice such as
 * {@code Observation.value.as(Reference)} becomes {@code [valueReference]}).
 *
 * <p>{@code Patient} itself is a member (by its own id) and also owns through
 * {@code Patient.link.other}; {@code Group} is a member through {@code Group.member.entity}.
 *
 * <p>With HAPI FHIR 8.8.0 and R4, 67 types are members. The types <b>outside</b> the compartment
 * are the definitional, administrative and infrastructure types, among them {@code Practitioner},
 * {@code PractitionerRole}, {@code Organization}, {@code Location}, {@code HealthcareService},
 * {@code Endpoint}, {@code Medication}, {@code Substance}, {@code Binary}, {@code Bundle},
 * {@code Parameters}, {@code OperationOutcome}, {@code MessageHeader}, {@code Task},
 * {@code Contract}, {@code Linkage}, {@code Slot}, {@code PaymentNotice},
 * {@code PaymentReconciliation}, {@code EnrollmentResponse}, {@code Subscription},
 * {@code ResearchStudy}, {@code DeviceMetric} and every conformance and knowledge resource
 * ({@code StructureDefinition}, {@code ValueSet}, {@code CodeSystem}, {@code Questionnaire},
 * {@code PlanDefinition}, ...); {@link #nonMemberTypes()} lists them all. A type outside the
 * compartment can still carry a patient reference (a {@code Task.for}, a {@code Bundle} entry):
 * the response inspector counts every explicit patient reference wherever it stands; the owner
 * paths only tell it where an <i>unresolvable</i> reference must be assumed to be a patient.
 *
 * <p>Immutable and thread-safe.
 */
public final class PatientCompartment {
  private static final String PATIENT = "Patient";

  private final Map<String, Set<List<String>>> ownerPaths;
  private final Set<String> nonMembers;

  private PatientCompartment(Map<String, Set<List<String>>> ownerPaths, Set<String> nonMembers) {
    this.ownerPaths = ownerPaths;
    this.nonMembers = nonMembers;
  }

  /** Reads the compartment from {@code context}'s resource definitions (walks every resource type once). */
  public static PatientCompartment from(FhirContext context) {
    requireNonNull(context, "context");
    Map<String, Set<List<String>>> paths = new HashMap<>();
    Set<String> outside = new TreeSet<>();
    for (String type : context.getResourceTypes()) {
      RuntimeResourceDefinition definition = context.getResourceDefinition(type);
      String name = definition.getName();
      Set<List<String>> owners = new LinkedHashSet<>();
      for (RuntimeSearchParam param : definition.getSearchParams()) {
        Set<String> compartments = param.getProvidesMembershipInCompartments();
        if (compartments == null || !compartments.contains(PATIENT)) {
          continue;
        }
        for (String expression : param.getPathsSplitForResourceType(name)) {
          List<String> elements = elementPath(name, expression);
          if (!elements.isEmpty()) {
            owners.add(List.copyOf(elements));
          }
        }
      }
      if (owners.isEmpty() && !PATIENT.equals(name)) {
        outside.add(name);
      } else {
        paths.put(name, Collections.unmodifiableSet(owners));
      }
    }
    return new PatientCompartment(Map.copyOf(paths), Collections.unmodifiableSet(outside));
  }

  /** Whether resources of {@code resourceType} belong to the Patient compartment. */
  public boolean inCompartment(String resourceType) {
    return ownerPaths.containsKey(resourceType);
  }

  /**
   * The element paths (JSON element names from the resource root, arrays transparent) whose
   * references make a resource of {@code resourceType} a member of a patient's compartment;
   * empty for a type outside the compartment.
   */
  public Set<List<String>> ownerPaths(String resourceType) {
    Set<List<String>> paths = ownerPaths.get(resourceType);
    return paths == null ? Set.of() : paths;
  }

  /** The member types, sorted. */
  public Set<String> memberTypes() {
    return Collections.unmodifiableSet(new TreeSet<>(ownerPaths.keySet()));
  }

  /** The resource types of the context that are outside the compartment, sorted. */
  public Set<String> nonMemberTypes() {
    return nonMembers;
  }

  /**
   * Reduces one FHIRPath expression of a search parameter to JSON element names: drops the leading
   * type name and filters ({@code where(...)}, {@code resolve()}, {@code exists()}, ...), and turns a
   * type cast of a choice element ({@code value.as(Reference)}, {@code value.ofType(Reference)},
   * {@code (X.value as Reference)}) into its JSON name ({@code valueReference}). Returns an empty
   * list when nothing is left.
   */
  static List<String> elementPath(String resourceType, String expression) {
    String expr = unwrap(expression.trim());
    String cast = null;
    int as = indexOfOutsideParens(expr, " as ");
    if (as >= 0) {
      cast = expr.substring(as + 4).trim();
      expr = unwrap(expr.substring(0, as).trim());
    }
    List<String> elements = new ArrayList<>();
    List<String> steps = splitOutsideParens(expr);
    for (int i = 0; i < steps.size(); i++) {
      String step = steps.get(i).trim();
      if (step.isEmpty()) {
        continue;
      }
      int open = step.indexOf('(');
      if (open >= 0) {
        String function = step.substring(0, open).trim();
        if ((function.equals("as") || function.equals("ofType")) && !elements.isEmpty()) {
          String type = step.substring(open + 1, step.lastIndexOf(')')).trim();
          int last = elements.size() - 1;
          elements.set(last, choiceName(elements.get(last), type));
        }
        continue;
      }
      if (i == 0 && (step.equals(resourceType) || Character.isUpperCase(step.charAt(0)))) {
        continue;
      }
      elements.add(stripChoiceMarker(step));
    }
    if (cast != null && !elements.isEmpty()) {
      int last = elements.size() - 1;
      elements.set(last, choiceName(elements.get(last), cast));
    }
    return elements;
  }

  private static String choiceName(String element, String type) {
    String t = type.trim();
    int dot = t.lastIndexOf('.');
    if (dot >= 0) {
      t = t.substring(dot + 1);
    }
    if (t.isEmpty()) {
      return element;
    }
    return stripChoiceMarker(element) + t.substring(0, 1).toUpperCase(Locale.ROOT) + t.substring(1);
  }

  private static String stripChoiceMarker(String element) {
    return element.endsWith("[x]") ? element.substring(0, element.length() - 3) : element;
  }

  private static String unwrap(String expr) {
    String e = expr;
    while (e.length() >= 2 && e.charAt(0) == '(' && closingParen(e, 0) == e.length() - 1) {
      e = e.substring(1, e.length() - 1).trim();
    }
    return e;
  }

  private static int closingParen(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  private static int indexOfOutsideParens(String s, String needle) {
    int depth = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (depth == 0 && s.startsWith(needle, i)) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> splitOutsideParens(String s) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int from = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == '.' && depth == 0) {
        parts.add(s.substring(from, i));
        from = i + 1;
      }
    }
    parts.add(s.substring(from));
    return parts;
  }
}
