package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * Bounds and location for {@link RequestParser}. Immutable.
 *
 * @param basePath the public path prefix fhirwall serves FHIR at: empty for the root, or like
 *     {@code /fhir} (leading slash, no trailing slash, plain segments)
 * @param maxTargetLength longest request-target accepted (longer: 414)
 * @param maxParams most query and form parameters in one request, merged
 * @param maxParamValueLength longest decoded parameter value
 * @param maxIdLength longest resource or version id (FHIR allows at most 64)
 * @param maxBundleEntries most entries in one batch or transaction
 * @param maxBodyBytes largest request body (larger: 413)
 * @param maxPageTokenLength longest paging token accepted in {@code _fwpage}
 */
public record ParserSettings(
    String basePath,
    int maxTargetLength,
    int maxParams,
    int maxParamValueLength,
    int maxIdLength,
    int maxBundleEntries,
    int maxBodyBytes,
    int maxPageTokenLength) {

  /**
   * Deepest nesting (objects and arrays) of a JSON request body, or of the JSON an XML body becomes.
   * Deeper is refused: the EPR would store it and give it back deeper than the inspector reads, and
   * every answer holding it (the patient's searches, {@code $everything}) would be withheld (502).
   */
  public static final int MAX_BODY_DEPTH = 192;

  /**
   * Deepest nesting the inspector reads in the EPR's answers: a resource written at
   * {@link #MAX_BODY_DEPTH} as it comes back inside a searchset inside a batch-response (six
   * containers around it), with room to spare.
   */
  public static final int READ_BACK_DEPTH = MAX_BODY_DEPTH + 8;

  private static final Pattern BASE_PATH = Pattern.compile("(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*");

  public ParserSettings {
    requireNonNull(basePath, "basePath");
    if (!BASE_PATH.matcher(basePath).matches()) {
      throw new IllegalArgumentException("basePath: " + basePath
          + " (expected: empty or /segment[/segment...], no trailing slash, no encoded or dot segments)");
    }
    positive("maxTargetLength", maxTargetLength);
    positive("maxParams", maxParams);
    positive("maxParamValueLength", maxParamValueLength);
    positive("maxBundleEntries", maxBundleEntries);
    positive("maxBodyBytes", maxBodyBytes);
    positive("maxPageTokenLength", maxPageTokenLength);
    if (maxIdLength < 1 || maxIdLength > 64) {
      throw new IllegalArgumentException("maxIdLength: " + maxIdLength + " (expected: 1..64)");
    }
  }

  /** Defaults: 8 KiB targets, 200 parameters, 64-character ids, 1000 bundle entries, 10 MiB bodies. */
  public static ParserSettings defaults(String basePath) {
    return new ParserSettings(basePath, 8192, 200, 8192, 64, 1000, 10 * 1024 * 1024, 4096);
  }

  /** These settings with another body limit (the deployment's {@code max-request-body}). */
  public ParserSettings withMaxBodyBytes(int bytes) {
    return new ParserSettings(basePath, maxTargetLength, maxParams, maxParamValueLength, maxIdLength,
        maxBundleEntries, bytes, maxPageTokenLength);
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }
}
