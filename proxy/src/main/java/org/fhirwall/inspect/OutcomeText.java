package org.fhirwall.inspect;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The patients an {@code OperationOutcome} names in words. An EPR explains what it did or refused in free text, and
 * that text may name records the answer shows nowhere else: HAPI FHIR's JPA server refuses to delete a record others
 * refer to with 409 and "First reference found was resource Patient/p1 in path Patient.managingOrganization" (a
 * patient, and whose organization it is, that no reference of the answer names). So in a body holding an
 * {@code OperationOutcome} (an error answer, a batch entry's outcome), every {@code Patient/<id>} it writes, in any
 * string ({@code Patient\/<id>} and {@code Patient%2F<id>} too), is taken for a disclosed patient: over-counting (the
 * caller's own words quoted back, an id that does not exist) is safe, the other way is a leak.
 *
 * <p>Stateless and thread-safe.
 */
final class OutcomeText {
  private static final String OUTCOME = "OperationOutcome";
  private static final Pattern PATIENT = Pattern.compile("Patient(?:/|\\\\/|%2[Ff])([A-Za-z0-9\\-.]{1,64})");

  private OutcomeText() {}

  /** Whether {@code read} holds an {@code OperationOutcome} whose words must be read. */
  static boolean holdsOutcome(Inspection.Read read) {
    return read.resourceTypes().contains(OUTCOME);
  }

  /**
   * The keys of the patients {@code json} names as {@code Patient/<id>} anywhere. An id a sentence ends
   * ({@code Patient/p1.}) is taken with and without its trailing dots, for FHIR ids may hold dots.
   */
  static Set<String> patients(byte[] json) {
    Matcher m = PATIENT.matcher(new String(json, StandardCharsets.UTF_8));
    Set<String> keys = new LinkedHashSet<>();
    while (m.find()) {
      String id = m.group(1);
      keys.add(PatientKeys.patient(id));
      String trimmed = id.replaceAll("\\.+$", "");
      if (!trimmed.isEmpty() && !trimmed.equals(id)) {
        keys.add(PatientKeys.patient(trimmed));
      }
    }
    return keys;
  }
}
