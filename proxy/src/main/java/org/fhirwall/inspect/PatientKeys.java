package org.fhirwall.inspect;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The canonical forms of the patient keys an {@link Inspection.Read} names. Quotas count distinct
 * keys, so each form is stable: the same patient seen again yields the same key.
 *
 * <ul>
 *   <li>{@code Patient/{id}}: a patient the EPR knows by id (a Patient resource, or any
 *       reference, full URL or location naming one, relative or absolute, with or without
 *       {@code _history});
 *   <li>{@code unidentified:{hash}}: a Patient resource without a server id (a contained Patient,
 *       or one the body carries without an id), keyed by a hash of its bytes;
 *   <li>{@code unresolved:{hash}}: a reference that may name a patient but cannot be resolved in
 *       the body (an identifier-only or display-only subject, an untyped or {@code urn:} reference
 *       that names no entry, a conditional {@code Patient?...} reference, an opaque
 *       {@link #UNREADABLE_BINARY Binary}), keyed by a hash of the reference's bytes, so that the
 *       same reference counts once.
 * </ul>
 *
 * <p>Hashes are SHA-256, truncated to 128 bits, hex: a key carries no identifier or name in clear.
 */
public final class PatientKeys {
  /** Prefix of a key for a patient known by its server id. */
  public static final String PATIENT_PREFIX = "Patient/";
  /** Prefix of a key for a Patient resource that has no server id. */
  public static final String UNIDENTIFIED_PREFIX = "unidentified:";
  /** Prefix of a key for a reference that may name a patient but cannot be resolved. */
  public static final String UNRESOLVED_PREFIX = "unresolved:";
  /** The hash input label of a Binary whose content fhirwall cannot read (see {@link #unresolved}). */
  public static final String UNREADABLE_BINARY = "Binary";

  private PatientKeys() {}

  /** {@code Patient/{id}}. */
  public static String patient(String id) {
    return PATIENT_PREFIX + id;
  }

  private static final Pattern LOCATED_PATIENT =
      Pattern.compile("(?:^|/)Patient/([A-Za-z0-9\\-.]{1,64})(?=/|\\?|$)");

  /**
   * The patients an answer's {@code Location} or {@code Content-Location} header points at
   * ({@code .../Patient/{id}}, with or without {@code _history}): a conditional create that matched
   * a record tells its address even when it shows no resource ({@code Prefer: return=minimal}).
   */
  public static Set<String> located(String url) {
    Matcher m = LOCATED_PATIENT.matcher(url);
    Set<String> keys = new LinkedHashSet<>(1);
    while (m.find()) {
      keys.add(patient(m.group(1)));
    }
    return keys;
  }

  /** Whether {@code key} names a patient by its server id (as opposed to a synthetic key). */
  public static boolean isIdentified(String key) {
    return key.startsWith(PATIENT_PREFIX);
  }

  static String unidentified(byte[] bytes, int start, int end) {
    return UNIDENTIFIED_PREFIX + hash(null, bytes, start, end);
  }

  static String unresolved(String label, byte[] bytes, int start, int end) {
    return UNRESOLVED_PREFIX + hash(label, bytes, start, end);
  }

  static String unresolved(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return UNRESOLVED_PREFIX + hash(null, bytes, 0, bytes.length);
  }

  private static String hash(@Nullable String label, byte[] bytes, int start, int end) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    if (label != null) {
      sha.update(label.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    sha.update(bytes, start, end - start);
    byte[] digest = sha.digest();
    return HexFormat.of().formatHex(digest, 0, 16);
  }
}
