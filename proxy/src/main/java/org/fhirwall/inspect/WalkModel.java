package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.fhir.PatientCompartment;
import org.jspecify.annotations.Nullable;

/**
 * What every {@link JsonWalk} shares: the JSON factory (with the depth and size limits), the
 * compartment, the known resource types, the element names that end an owner path, and the
 * upstream bases. Immutable and thread-safe.
 */
final class WalkModel {
  // Member name codes (low byte of a NameTable code) and the owner-leaf flag.
  static final int RESOURCE_TYPE = 1;
  static final int ID = 2;
  static final int REFERENCE = 3;
  static final int TYPE = 4;
  static final int CONTENT_TYPE = 5;
  static final int RELATION = 6;
  static final int DATA = 7;
  static final int FULL_URL = 8;
  static final int LOCATION = 9;
  static final int URL = 10;
  static final int LINK = 11;
  static final int ENTRY = 12;
  static final int CONTAINED = 13;
  static final int RESPONSE = 14;
  static final int REQUEST = 15;
  static final int RESOURCE = 16;
  static final int SECURITY_CONTEXT = 17;
  static final int MEMBER = 0xFF;
  static final int OWNER_LEAF = 0x100;

  final JsonFactory factory;
  final PatientCompartment compartment;
  final Set<String> knownTypes;
  final Set<String> ownerLeaves;
  final List<String> baseStrings;
  /** The member names the walk acts on, with {@link #OWNER_LEAF} on those that end an owner path. */
  final NameTable members;
  /** The known resource types, coded 1..n ({@link #typeNames}), found from a byte range without allocating. */
  final NameTable types;
  /** The type of each {@link #types} code (index 0: none). */
  final String[] typeNames;
  /** The code of {@code Patient} (0 when the model does not know it). */
  final int patientType;
  /** The code of {@code Binary} (whose ids an inspection names: a bulk export's files are Binaries). */
  final int binaryType;
  /** The bases in ASCII, or null for a base that is not plain ASCII (compared after decoding). */
  final byte[] @Nullable [] baseBytes;
  /** The bases a full URL can be read past ({@link ReferenceText#plainBases}). */
  final byte[][] plainBases;
  /** The length in chars of the shortest base (MAX_VALUE for none): a string of fewer raw bytes starts with none. */
  final int shortestBase;
  /**
   * Whether every base starts with a plain ASCII character ({@link #baseFirst} then tells which): a
   * string whose raw content starts with another plain ASCII byte, not a backslash, starts with no base.
   */
  final boolean baseFirstAscii;
  /** The first characters of the bases, by code (read only when {@link #baseFirstAscii}). */
  final boolean[] baseFirst = new boolean[128];
  final int maxDepth;
  final long maxDecodedBytes;

  WalkModel(Set<String> knownTypes, PatientCompartment compartment, InspectorSettings settings) {
    this.compartment = requireNonNull(compartment, "compartment");
    this.knownTypes = Set.copyOf(knownTypes);
    Set<String> leaves = new HashSet<>();
    for (String type : compartment.memberTypes()) {
      for (List<String> path : compartment.ownerPaths(type)) {
        leaves.add(path.get(path.size() - 1));
      }
    }
    this.ownerLeaves = Set.copyOf(leaves);
    this.baseStrings = settings.upstreamBases();
    this.members = new NameTable(memberCodes(ownerLeaves));
    Map<String, Integer> typeCodes = new HashMap<>();
    this.typeNames = new String[this.knownTypes.size() + 1];
    for (String type : this.knownTypes) {
      typeCodes.put(type, typeCodes.size() + 1);
      typeNames[typeCodes.size()] = type;
    }
    this.types = new NameTable(typeCodes);
    this.patientType = types.code("Patient");
    this.binaryType = types.code("Binary");
    this.baseBytes = new byte[baseStrings.size()][];
    for (int i = 0; i < baseStrings.size(); i++) {
      String base = baseStrings.get(i);
      boolean ascii = !base.isEmpty() && base.chars().allMatch(c -> c >= 0x20 && c < 0x80 && c != '"' && c != '\\');
      baseBytes[i] = ascii ? base.getBytes(StandardCharsets.US_ASCII) : null;
    }
    this.plainBases = ReferenceText.plainBases(baseBytes);
    this.shortestBase = baseStrings.stream().mapToInt(String::length).min().orElse(Integer.MAX_VALUE);
    boolean firstAscii = true;
    for (String base : baseStrings) {
      if (base.isEmpty() || base.charAt(0) >= 0x80 || base.charAt(0) == '\\') {
        firstAscii = false;
      } else {
        baseFirst[base.charAt(0)] = true;
      }
    }
    this.baseFirstAscii = firstAscii;
    this.maxDepth = settings.maxDepth();
    this.maxDecodedBytes = settings.maxDecodedBytes();
    // Only for inline base64 content (JsonTokens reads the bodies); its limits as they were.
    this.factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(settings.maxDepth() + 1)
            .maxDocumentLength(settings.maxDecodedBytes())
            .maxStringLength((int) settings.maxDecodedBytes())
            .build())
        .build();
  }

  private static Map<String, Integer> memberCodes(Set<String> ownerLeaves) {
    Map<String, Integer> codes = new HashMap<>();
    String[] names = {"resourceType", "id", "reference", "type", "contentType", "relation", "data", "fullUrl",
        "location", "url", "link", "entry", "contained", "response", "request", "resource", "securityContext"};
    for (int i = 0; i < names.length; i++) {
      codes.put(names[i], i + 1);
    }
    for (String leaf : ownerLeaves) {
      codes.merge(leaf, OWNER_LEAF, (a, b) -> a | b);
    }
    return codes;
  }
}
