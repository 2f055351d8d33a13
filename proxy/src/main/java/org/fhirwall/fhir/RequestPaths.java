package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The request target and path as {@link RequestParser} reads them: only plain segments of FHIR's
 * own characters (no percent-encoding, dot or empty segments, matrix parameters, fragments or
 * non-ASCII), then the path's shape (type, id, version, operation, compartment) and, with the
 * method, the FHIR R4 interaction it names; wrong-case or unknown resource types, invalid ids and
 * any other shape are refused. Thread-safe and free of I/O.
 */
final class RequestPaths {
  static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");
  static final String ALL_METHODS = "GET, POST, PUT, PATCH, DELETE";
  private static final Set<String> COMPARTMENT_OWNERS = Set.of("Patient", "Encounter", "RelatedPerson", "Practitioner", "Device");
  private static final Pattern OPERATION = Pattern.compile("\\$[A-Za-z][A-Za-z0-9_-]{0,63}");
  static final Pattern TYPE_LIKE = Pattern.compile("[A-Za-z]+");
  /** The operation of a bulk export's status URL, the one operation a {@code DELETE} addresses (its cancel). */
  private static final String EXPORT_STATUS = "export-poll-status";

  private final ParserSettings settings;
  private final Set<String> resourceTypes;
  private final Map<String, String> typesByLowerCase;
  private final Pattern idPattern;

  RequestPaths(Set<String> resourceTypes, ParserSettings settings) {
    this.settings = requireNonNull(settings, "settings");
    this.resourceTypes = Set.copyOf(resourceTypes);
    Map<String, String> lower = new HashMap<>();
    for (String t : this.resourceTypes) {
      lower.put(t.toLowerCase(Locale.ROOT), t);
    }
    this.typesByLowerCase = Map.copyOf(lower);
    this.idPattern = Pattern.compile("[A-Za-z0-9.-]{1," + settings.maxIdLength() + "}");
  }

  static Refused methodNotAllowed(String diagnostics, String allow) {
    return new Refused(Refusal.of(405, IssueType.NOT_SUPPORTED, diagnostics).withHeader("Allow", allow));
  }

  void checkTarget(String target, String what) {
    if (target.length() > settings.maxTargetLength()) {
      throw Refused.of(414, IssueType.TOO_LONG, "The " + what + " is longer than " + settings.maxTargetLength() + " characters");
    }
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        throw Refused.invalid("Spaces, control characters and non-ASCII characters must be percent-encoded in the " + what);
      }
      if (c == '#') {
        throw Refused.invalid("A fragment ('#') is not accepted in the " + what);
      }
    }
  }

  /** Path checks that hold whatever the base: only plain segments of FHIR's own characters. */
  static void checkPath(String path) {
    if (!path.startsWith("/")) {
      throw Refused.invalid("The request target must be a path (origin-form); absolute URLs and '*' are refused");
    }
    checkRelativePath(path.substring(1));
  }

  static void checkRelativePath(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%') {
        throw Refused.invalid("Percent-encoded characters are not accepted in the path (types, ids and operation names never need them)");
      }
      if (c == ';') {
        throw Refused.invalid("Matrix parameters (';') are not accepted in the path");
      }
      if (!isPathChar(c) && c != '/') {
        throw Refused.invalid("A character in the path is outside [A-Za-z0-9._$-]");
      }
    }
    int start = 0;
    while (start <= path.length()) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? path.length() : slash;
      String seg = path.substring(start, end);
      if (seg.equals(".") || seg.equals("..")) {
        throw Refused.invalid("Dot segments ('.' or '..') are not accepted in the path");
      }
      if (seg.isEmpty() && slash >= 0) {
        throw Refused.invalid("Empty path segment ('//')");
      }
      if (slash < 0) {
        break;
      }
      start = slash + 1;
    }
  }

  private static boolean isPathChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '$' || c == '-';
  }

  static List<String> segments(String relative) {
    if (relative.isEmpty()) {
      return List.of();
    }
    if (relative.endsWith("/")) {
      throw Refused.invalid("Trailing '/' in the path");
    }
    return List.of(relative.split("/", -1));
  }

  enum Kind {
    BASE, METADATA, SYSTEM_HISTORY, SYSTEM_SEARCH, SYSTEM_OPERATION,
    TYPE, TYPE_HISTORY, TYPE_SEARCH, TYPE_OPERATION,
    INSTANCE, INSTANCE_HISTORY, INSTANCE_OPERATION, VERSION,
    COMPARTMENT, COMPARTMENT_SEARCH
  }

  record Shape(Kind kind, @Nullable String type, @Nullable String id, @Nullable String versionId,
      @Nullable String operation, @Nullable ResourceId compartment) {
    static Shape of(Kind kind) {
      return new Shape(kind, null, null, null, null, null);
    }
  }

  Shape shape(List<String> s) {
    int n = s.size();
    if (n == 0) {
      return Shape.of(Kind.BASE);
    }
    String first = s.get(0);
    if (n == 1) {
      switch (first) {
        case "metadata" -> {
          return Shape.of(Kind.METADATA);
        }
        case "_history" -> {
          return Shape.of(Kind.SYSTEM_HISTORY);
        }
        case "_search" -> {
          return Shape.of(Kind.SYSTEM_SEARCH);
        }
        default -> {
          if (first.startsWith("$")) {
            return new Shape(Kind.SYSTEM_OPERATION, null, null, null, operation(first), null);
          }
        }
      }
    }
    String type = resourceType(first);
    if (n == 1) {
      return new Shape(Kind.TYPE, type, null, null, null, null);
    }
    String second = s.get(1);
    if (n == 2) {
      if (second.equals("_history")) {
        return new Shape(Kind.TYPE_HISTORY, type, null, null, null, null);
      }
      if (second.equals("_search")) {
        return new Shape(Kind.TYPE_SEARCH, type, null, null, null, null);
      }
      if (second.startsWith("$")) {
        return new Shape(Kind.TYPE_OPERATION, type, null, null, operation(second), null);
      }
      return new Shape(Kind.INSTANCE, type, id(second), null, null, null);
    }
    String id = id(second);
    String third = s.get(2);
    if (n == 3) {
      if (third.equals("_history")) {
        return new Shape(Kind.INSTANCE_HISTORY, type, id, null, null, null);
      }
      if (third.startsWith("$")) {
        return new Shape(Kind.INSTANCE_OPERATION, type, id, null, operation(third), null);
      }
      return compartment(Kind.COMPARTMENT, type, id, third);
    }
    if (n == 4) {
      if (third.equals("_history")) {
        return new Shape(Kind.VERSION, type, id, id(s.get(3)), null, null);
      }
      if (s.get(3).equals("_search") && !third.startsWith("_") && !third.startsWith("$")) {
        return compartment(Kind.COMPARTMENT_SEARCH, type, id, third);
      }
    }
    throw Refused.of(404, IssueType.NOT_FOUND, "No FHIR interaction has this path shape");
  }

  private Shape compartment(Kind kind, String owner, String id, String segment) {
    if (segment.startsWith("_") || segment.startsWith("$")) {
      throw Refused.of(404, IssueType.NOT_FOUND, "No FHIR interaction has this path shape");
    }
    String type = resourceType(segment);
    if (!COMPARTMENT_OWNERS.contains(owner)) {
      throw Refused.invalid(owner + " is not a compartment (expected Patient, Encounter, RelatedPerson, Practitioner or Device)");
    }
    return new Shape(kind, type, null, null, null, new ResourceId(owner, id));
  }

  /** Whether {@code name} is an R4 resource type, exactly as written. */
  boolean isResourceType(String name) {
    return resourceTypes.contains(name);
  }

  private String resourceType(String segment) {
    if (resourceTypes.contains(segment)) {
      return segment;
    }
    String known = typesByLowerCase.get(segment.toLowerCase(Locale.ROOT));
    if (known != null) {
      throw Refused.invalid("Resource type names are case-sensitive (expected " + known + ")");
    }
    if (TYPE_LIKE.matcher(segment).matches() && Character.isUpperCase(segment.charAt(0))) {
      throw Refused.invalid("Unknown resource type");
    }
    throw Refused.of(404, IssueType.NOT_FOUND, "Not a FHIR path of this server");
  }

  private String id(String segment) {
    if (!idPattern.matcher(segment).matches() || segment.chars().allMatch(c -> c == '.')) {
      throw Refused.invalid("Invalid resource id (expected [A-Za-z0-9-.]{1," + settings.maxIdLength() + "})");
    }
    return segment;
  }

  private static String operation(String segment) {
    if (!OPERATION.matcher(segment).matches()) {
      throw Refused.invalid("Invalid operation name (expected $ followed by letters, digits, '-' or '_')");
    }
    return segment.substring(1);
  }

  /**
   * The FHIR interaction {@code m} names on a path of this shape. A bulk export's status URL
   * ({@code $export-poll-status} on the base) also takes {@code DELETE}, its cancel (the Bulk Data
   * spec's), when sent alone: no other operation, and no Bundle entry, is deleted.
   */
  static Interaction interaction(Shape shape, String m, boolean inBundle) {
    if (shape.kind() == Kind.SYSTEM_OPERATION && !inBundle && EXPORT_STATUS.equals(shape.operation())) {
      if (m.equals("DELETE")) {
        return Interaction.OPERATION_SYSTEM;
      }
      if (!m.equals("GET") && !m.equals("POST")) {
        throw methodNotAllowed(m + " is not allowed here", "GET, POST, DELETE");
      }
    }
    return interaction(shape.kind(), m);
  }

  private static Interaction interaction(Kind kind, String m) {
    return switch (kind) {
      case BASE -> switch (m) {
        case "GET" -> Interaction.SEARCH_SYSTEM;
        case "POST" -> Interaction.BATCH;
        default -> throw methodNotAllowed(m + " is not allowed on the base (GET to search, POST a batch or transaction)", "GET, POST");
      };
      case METADATA -> only(m, "GET", Interaction.CAPABILITIES);
      case SYSTEM_HISTORY, TYPE_HISTORY, INSTANCE_HISTORY -> only(m, "GET",
          kind == Kind.SYSTEM_HISTORY ? Interaction.HISTORY_SYSTEM
              : kind == Kind.TYPE_HISTORY ? Interaction.HISTORY_TYPE : Interaction.HISTORY_INSTANCE);
      case VERSION -> only(m, "GET", Interaction.VREAD);
      case COMPARTMENT -> only(m, "GET", Interaction.SEARCH_COMPARTMENT);
      case SYSTEM_SEARCH -> getOrPost(m, Interaction.SEARCH_SYSTEM);
      case TYPE_SEARCH -> getOrPost(m, Interaction.SEARCH_TYPE);
      case COMPARTMENT_SEARCH -> getOrPost(m, Interaction.SEARCH_COMPARTMENT);
      case SYSTEM_OPERATION -> getOrPost(m, Interaction.OPERATION_SYSTEM);
      case TYPE_OPERATION -> getOrPost(m, Interaction.OPERATION_TYPE);
      case INSTANCE_OPERATION -> getOrPost(m, Interaction.OPERATION_INSTANCE);
      case TYPE -> switch (m) {
        case "GET" -> Interaction.SEARCH_TYPE;
        case "POST" -> Interaction.CREATE;
        case "PUT" -> Interaction.UPDATE;
        case "PATCH" -> Interaction.PATCH;
        case "DELETE" -> Interaction.DELETE;
        default -> throw methodNotAllowed(m + " is not allowed here", ALL_METHODS);
      };
      case INSTANCE -> switch (m) {
        case "GET" -> Interaction.READ;
        case "PUT" -> Interaction.UPDATE;
        case "PATCH" -> Interaction.PATCH;
        case "DELETE" -> Interaction.DELETE;
        default -> throw methodNotAllowed(m + " is not allowed on a resource instance", "GET, PUT, PATCH, DELETE");
      };
    };
  }

  private static Interaction only(String m, String allowed, Interaction i) {
    if (!m.equals(allowed)) {
      throw methodNotAllowed(m + " is not allowed here", allowed);
    }
    return i;
  }

  private static Interaction getOrPost(String m, Interaction i) {
    if (!m.equals("GET") && !m.equals("POST")) {
      throw methodNotAllowed(m + " is not allowed here", "GET, POST");
    }
    return i;
  }
}
