package org.fhirwall.inspect;

import static org.fhirwall.inspect.WalkFrame.CONTAINED;
import static org.fhirwall.inspect.WalkFrame.OTHER_TYPE;
import static org.fhirwall.inspect.WalkFrame.PATIENT;
import static org.fhirwall.inspect.WalkFrame.UNTYPED;
import static org.fhirwall.inspect.WalkFrame.URN;

import org.jspecify.annotations.Nullable;

/**
 * Reads the reference strings of a body ({@code reference} members, and the entry URLs that may
 * name a patient) with a {@link ReferenceText}, counting the patients they name into the walk's
 * {@link KeySet}. Scratch of one {@link JsonWalk}, like the ReferenceText it holds.
 */
final class PatientReferences {
  private final ReferenceText referenceText;
  private final KeySet patients;
  /** The upstream bases a full URL is read past ({@link ReferenceText#plainBases}). */
  private final byte[][] plainBases;

  PatientReferences(ReferenceText referenceText, KeySet patients, byte[][] plainBases) {
    this.referenceText = referenceText;
    this.patients = patients;
    this.plainBases = plainBases;
  }

  /**
   * Reads the {@code reference} string {@code t} of the object {@code f} at {@code depth} in
   * {@code frames}: counts the patient it names, else notes on {@code f} how it reads.
   */
  void reference(WalkFrame[] frames, int depth, WalkFrame f, JsonTokens t, byte[] json) {
    byte[] buf = json;
    int off = t.start + 1;
    int len = t.end - t.start - 2;
    String decoded = null;
    if (t.flags != 0) {
      decoded = t.text();
      buf = classifiable(decoded);
      off = 0;
      len = buf.length;
    }
    switch (referenceText.classify(buf, off, len)) {
      case PATIENT -> {
        patients.add(patientKey(buf));
        f.referenceKind = PATIENT;
        if ((f.nameCode & WalkModel.MEMBER) == WalkModel.SECURITY_CONTEXT && depth > 0) {
          frames[depth - 1].rare().securityContextIsPatient = true;
        }
      }
      case PATIENT_UNRESOLVED -> {
        patients.add(PatientKeys.unresolved("reference\u0000" + text(decoded, buf, off, len)));
        f.referenceKind = PATIENT;
      }
      case OTHER_TYPE -> f.referenceKind = OTHER_TYPE;
      case CONTAINED -> {
        f.referenceKind = CONTAINED;
        f.rare().reference = text(decoded, buf, off, len);
      }
      case URN -> {
        f.referenceKind = URN;
        f.rare().reference = text(decoded, buf, off, len);
      }
      case UNTYPED -> f.referenceKind = UNTYPED;
    }
  }

  /** Counts the patient a full URL, location or request URL names, if it names one. */
  void countPatientIn(JsonTokens t, byte[] json) {
    byte[] buf = json;
    int off = t.start + 1;
    int len = t.end - t.start - 2;
    String decoded = null;
    if (t.flags != 0) {
      decoded = t.text();
      buf = classifiable(decoded);
      off = 0;
      len = buf.length;
    }
    ReferenceText.Kind kind = decoded == null
        ? referenceText.classifyUrl(buf, off, len, plainBases)
        : referenceText.classify(buf, off, len, false);
    if (kind == ReferenceText.Kind.PATIENT) {
      patients.add(patientKey(buf));
    } else if (kind == ReferenceText.Kind.PATIENT_UNRESOLVED) {
      patients.add(PatientKeys.unresolved("reference\u0000" + text(decoded, buf, off, len)));
    }
  }

  /**
   * A decoded text as bytes {@link ReferenceText} reads alike: its ASCII characters as they are,
   * any other character as one byte above 0x7F (never a separator, never an id character), so
   * that offsets in it are offsets in the text.
   */
  private static byte[] classifiable(String text) {
    byte[] out = new byte[text.length()];
    for (int i = 0; i < out.length; i++) {
      char c = text.charAt(i);
      out[i] = c < 0x80 ? (byte) c : (byte) 0x80;
    }
    return out;
  }

  /** The text of a reference: the decoded one, or the plain ASCII bytes as they are. */
  private static String text(@Nullable String decoded, byte[] buf, int off, int len) {
    return decoded != null ? decoded : JsonText.ascii(buf, off, len);
  }

  /** {@code Patient/{id}} for the id {@link #referenceText} just found in {@code buf}, in one String when it can. */
  private String patientKey(byte[] buf) {
    int s = referenceText.idStart;
    int e = referenceText.idEnd;
    int n = PatientKeys.PATIENT_PREFIX.length();
    // A valid id is ASCII: a copy of its bytes is its String. "Patient/" before it is one word.
    if (s >= n && (long) JsonTokens.LONGS.get(buf, s - n) == ReferenceText.PATIENT_SLASH) {
      return JsonText.ascii(buf, s - n, e - s + n);
    }
    return PatientKeys.patient(JsonText.ascii(buf, s, e - s));
  }
}
