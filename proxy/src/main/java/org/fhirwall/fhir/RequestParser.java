package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link RawRequest} into a classified {@link FhirRequest} in canonical form, or refuses it.
 *
 * <p>It reads a request the way HAPI FHIR would (path split on {@code /}, parameters split on
 * {@code &} and decoded once, {@code +} as space) and refuses anything that another reader could
 * take differently: percent-encoding in the path, dot or empty segments, matrix parameters, wrong-case
 * or unknown resource types, invalid ids, encoded or wrong-case parameter names, duplicated control
 * parameters, hand-made paging ({@code _getpages}, {@code _offset}, ...), method overrides, framing
 * tricks, and any path shape that is not a FHIR R4 interaction. A refused request never reaches a
 * later stage; the diagnostics say what was wrong without echoing values (which may name patients).
 *
 * <p>Only headers with a FHIR meaning survive (see {@link FhirRequest#forwardHeaders()}); XML
 * bodies are converted to JSON; JSON bodies are re-serialised; a {@code POST _search} form body is
 * merged into the parameters; a batch or transaction has each entry classified as if sent alone.
 *
 * <p>Thread-safe and free of I/O; one instance serves every request. XML bodies and large bundles
 * cost real CPU: callers parse requests with bodies off the event loops.
 */
public final class RequestParser {
  private static final Logger log = LoggerFactory.getLogger(RequestParser.class);

  /** The parameter of fhirwall's own paging links. */
  public static final String PAGE_PARAM = "_fwpage";

  private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");
  private static final String ALL_METHODS = "GET, POST, PUT, PATCH, DELETE";
  private static final Set<String> COMPARTMENT_OWNERS = Set.of("Patient", "Encounter", "RelatedPerson", "Practitioner", "Device");
  /** Lower-case names of paging parameters only fhirwall's own links may drive. */
  private static final Set<String> PAGING_PARAMS = Set.of("_getpages", "_getpagesoffset", "_pageid", "_offset", "_bundletype", "_fwpage");
  /** Control parameters HAPI reads one value of: a second one is refused rather than guessed at. */
  private static final Set<String> SINGLE_VALUED = Set.of("_count", "_format", "_pretty", "_summary", "_elements",
      "_sort", "_total", "_contained", "_containedType", "_since", "_at", "_type", "_query");
  private static final Set<String> KNOWN_CONTROLS = Set.of("_id", "_lastUpdated", "_tag", "_profile", "_security",
      "_text", "_content", "_list", "_has", "_include", "_revinclude", "_filter", "_source", "_language", "_count",
      "_format", "_pretty", "_summary", "_elements", "_sort", "_total", "_contained", "_containedType", "_since",
      "_at", "_type", "_query");
  private static final Set<String> READ_PARAMS = Set.of("_summary", "_elements", "_elements:exclude");
  private static final Pattern OPERATION = Pattern.compile("\\$[A-Za-z][A-Za-z0-9_-]{0,63}");
  private static final Pattern PAGE_TOKEN = Pattern.compile("[A-Za-z0-9_-]+");
  private static final Pattern TYPE_LIKE = Pattern.compile("[A-Za-z]+");

  private final ParserSettings settings;
  private final Set<String> resourceTypes;
  private final Map<String, String> typesByLowerCase;
  private final Map<String, String> controlsByLowerCase;
  private final RequestBodies bodies;
  private final Pattern idPattern;

  public RequestParser(FhirContext context, ParserSettings settings) {
    requireNonNull(context, "context");
    this.settings = requireNonNull(settings, "settings");
    this.resourceTypes = Set.copyOf(context.getResourceTypes());
    Map<String, String> lower = new HashMap<>();
    for (String t : resourceTypes) {
      lower.put(t.toLowerCase(Locale.ROOT), t);
    }
    this.typesByLowerCase = Map.copyOf(lower);
    Map<String, String> controls = new HashMap<>();
    for (String c : KNOWN_CONTROLS) {
      controls.put(c.toLowerCase(Locale.ROOT), c);
    }
    this.controlsByLowerCase = Map.copyOf(controls);
    this.bodies = new RequestBodies(context);
    this.idPattern = Pattern.compile("[A-Za-z0-9.-]{1," + settings.maxIdLength() + "}");
  }

  public ParserSettings settings() {
    return settings;
  }

  /** Classifies {@code raw}; never throws for any input. */
  public ParseResult parse(RawRequest raw) {
    try {
      return new ParseResult.Parsed(parseRequest(raw));
    } catch (Refused r) {
      return new ParseResult.Rejected(r.refusal());
    } catch (RuntimeException | StackOverflowError e) {
      log.debug("request could not be classified: {}", e.getClass().getName());
      return new ParseResult.Rejected(Refusal.of(400, IssueType.INVALID, "The request could not be read"));
    }
  }

  private FhirRequest parseRequest(RawRequest raw) {
    String method = raw.method();
    if (!METHODS.contains(method)) {
      throw methodNotAllowed("This method is not supported", ALL_METHODS);
    }
    RequestHeaders.checkHeaders(raw);
    if (raw.body().length > settings.maxBodyBytes()) {
      throw Refused.of(413, IssueType.TOO_LONG, "Request body larger than " + settings.maxBodyBytes() + " bytes");
    }
    String target = raw.target();
    checkTarget(target, "request target");
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? "" : target.substring(q + 1);
    checkPath(path);
    String base = settings.basePath();
    if (!path.equals(base) && !path.startsWith(base + "/")) {
      throw Refused.of(404, IssueType.NOT_FOUND, "Not a FHIR path of this server");
    }
    String relative = path.substring(base.length());
    relative = relative.isEmpty() ? relative : relative.substring(1);
    List<QueryParam> urlParams = QueryCodec.parse(query, "query string", settings);
    RequestHeaders.Info info = RequestHeaders.read(raw);
    return classify(new Input(method, segments(relative), urlParams, info, raw.body(), false));
  }

  private static Refused methodNotAllowed(String diagnostics, String allow) {
    return new Refused(Refusal.of(405, IssueType.NOT_SUPPORTED, diagnostics).withHeader("Allow", allow));
  }

  private void checkTarget(String target, String what) {
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
  private static void checkPath(String path) {
    if (!path.startsWith("/")) {
      throw Refused.invalid("The request target must be a path (origin-form); absolute URLs and '*' are refused");
    }
    checkRelativePath(path.substring(1));
  }

  private static void checkRelativePath(String path) {
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

  private static List<String> segments(String relative) {
    if (relative.isEmpty()) {
      return List.of();
    }
    if (relative.endsWith("/")) {
      throw Refused.invalid("Trailing '/' in the path");
    }
    return List.of(relative.split("/", -1));
  }

  // ---------------------------------------------------------------- classification

  /** A request reduced to what classification needs; bundle entries come through here too. */
  private record Input(String method, List<String> segments, List<QueryParam> urlParams,
      RequestHeaders.Info info, byte[] body, boolean inBundle) {}

  private enum Kind {
    BASE, METADATA, SYSTEM_HISTORY, SYSTEM_SEARCH, SYSTEM_OPERATION,
    TYPE, TYPE_HISTORY, TYPE_SEARCH, TYPE_OPERATION,
    INSTANCE, INSTANCE_HISTORY, INSTANCE_OPERATION, VERSION,
    COMPARTMENT, COMPARTMENT_SEARCH
  }

  private record Shape(Kind kind, @Nullable String type, @Nullable String id, @Nullable String versionId,
      @Nullable String operation, @Nullable ResourceId compartment) {
    static Shape of(Kind kind) {
      return new Shape(kind, null, null, null, null, null);
    }
  }

  private Shape shape(List<String> s) {
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

  private FhirRequest classify(Input in) {
    Shape shape = shape(in.segments());
    String m = in.method();
    if (shape.kind() == Kind.BASE && !in.inBundle() && hasParamIgnoringCase(in.urlParams(), PAGE_PARAM)) {
      return page(in);
    }
    if (shape.kind() == Kind.BASE && in.inBundle()) {
      throw Refused.invalid("A Bundle entry cannot address the base (nested batches and system searches inside a Bundle are not accepted)");
    }
    Interaction interaction = interaction(shape.kind(), m);
    RequestHeaders.Info info = in.info();
    byte[] raw = in.body();
    if ((m.equals("GET") || m.equals("DELETE")) && raw.length > 0) {
      throw Refused.invalid("A " + m + " request carries no body");
    }
    if (raw.length > 0 && info.contentEncoding() != null && !info.contentEncoding().equalsIgnoreCase("identity")) {
      throw RequestBodies.unsupported("Compressed request bodies (Content-Encoding) are not accepted");
    }

    boolean searchPost = m.equals("POST") && interaction.isSearch();
    List<QueryParam> params = in.urlParams();
    if (searchPost) {
      if (in.inBundle()) {
        throw Refused.invalid("Searches inside a Bundle use GET");
      }
      params = mergeForm(params, raw, info.contentType());
    }
    Controls controls = controls(params);
    params = controls.params();
    boolean conditional = false;
    switch (interaction) {
      case READ, VREAD -> {
        for (QueryParam p : params) {
          if (!READ_PARAMS.contains(p.name())) {
            throw Refused.invalid("A read takes no parameters besides _summary, _elements, _format and _pretty");
          }
        }
      }
      case CREATE, BATCH -> noParams(params, interaction);
      case UPDATE, PATCH, DELETE -> {
        conditional = shape.kind() == Kind.TYPE;
        if (conditional && params.isEmpty()) {
          throw Refused.invalid("A conditional " + interaction.code() + " needs search parameters");
        }
        if (!conditional) {
          noParams(params, interaction);
        }
      }
      case HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM, SEARCH_TYPE, SEARCH_SYSTEM, SEARCH_COMPARTMENT,
          CAPABILITIES, OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE, TRANSACTION, PAGE -> { }
    }

    List<QueryParam> ifNoneExist = List.of();
    if (info.ifNoneExist() != null) {
      if (interaction != Interaction.CREATE) {
        throw Refused.invalid("If-None-Exist is only accepted on a create");
      }
      ifNoneExist = ifNoneExist(info.ifNoneExist(), requireNonNull(shape.type()));
      conditional = true;
    }

    FhirRequest.Body body = FhirRequest.Body.EMPTY;
    List<FhirRequest.BundleEntry> entries = List.of();
    switch (interaction) {
      case CREATE, UPDATE -> body = resourceBody(raw, info, interaction, shape, conditional);
      case PATCH -> body = patchBody(raw, info, in.inBundle());
      case OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE -> {
        if (raw.length > 0) {
          ObjectNode resource = bodies.resource(raw, RequestBodies.kindOf(info.contentType()), "operation body");
          body = new FhirRequest.Body(bodies.bytes(resource), Format.JSON.contentType());
        }
      }
      case BATCH -> {
        if (raw.length == 0) {
          throw Refused.invalid("POST to the base needs a batch or transaction Bundle");
        }
        ObjectNode bundle = bodies.resource(raw, RequestBodies.kindOf(info.contentType()), "request body");
        interaction = bundleType(bundle);
        entries = entries(bundle);
        body = new FhirRequest.Body(CanonicalForm.bundleJson(interaction, entries), Format.JSON.contentType());
      }
      case READ, VREAD, DELETE, HISTORY_INSTANCE, HISTORY_TYPE, HISTORY_SYSTEM, SEARCH_TYPE, SEARCH_SYSTEM,
          SEARCH_COMPARTMENT, CAPABILITIES, TRANSACTION, PAGE -> { }
    }

    Format format = controls.format() != null ? controls.format()
        : info.accept() != null ? info.accept() : Format.JSON;
    List<RawRequest.Header> forward = RequestHeaders.forward(info, body.isEmpty() ? null : body.contentType(), ifNoneExist);
    return new FhirRequest(interaction, m, shape.type(), shape.id(), shape.versionId(), shape.compartment(),
        shape.operation(), conditional, params, ifNoneExist, format, controls.pretty(), info.respondAsync(), null,
        forward, entries, body);
  }

  private static void noParams(List<QueryParam> params, Interaction interaction) {
    if (!params.isEmpty()) {
      throw Refused.invalid("A " + interaction.code() + " takes no parameters besides _format and _pretty");
    }
  }

  private static boolean hasParamIgnoringCase(List<QueryParam> params, String name) {
    for (QueryParam p : params) {
      if (p.name().equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private List<QueryParam> mergeForm(List<QueryParam> urlParams, byte[] raw, @Nullable String contentType) {
    if (raw.length == 0) {
      return urlParams;
    }
    if (RequestBodies.kindOf(contentType) != RequestBodies.Kind.FORM) {
      throw RequestBodies.unsupported("POST _search takes an application/x-www-form-urlencoded body");
    }
    // Latin-1 keeps every byte as one char, so a raw non-ASCII byte is refused by the codec.
    List<QueryParam> form = QueryCodec.parse(new String(raw, StandardCharsets.ISO_8859_1), "form body", settings);
    Set<String> urlNames = new HashSet<>();
    for (QueryParam p : urlParams) {
      urlNames.add(p.name());
    }
    for (QueryParam p : form) {
      if (urlNames.contains(p.name())) {
        throw Refused.invalid("Parameter '" + p.name() + "' is given both in the URL and in the form body");
      }
    }
    List<QueryParam> merged = new ArrayList<>(urlParams.size() + form.size());
    merged.addAll(urlParams);
    merged.addAll(form);
    if (merged.size() > settings.maxParams()) {
      throw Refused.of(400, IssueType.TOO_COSTLY, "More than " + settings.maxParams() + " parameters");
    }
    return merged;
  }

  private record Controls(List<QueryParam> params, @Nullable Format format, boolean pretty, boolean formatOrPrettyGiven) {}

  /** Applies the rules on control parameters and takes {@code _format} and {@code _pretty} out. */
  private Controls controls(List<QueryParam> params) {
    List<QueryParam> kept = new ArrayList<>(params.size());
    Set<String> seen = new HashSet<>();
    Format format = null;
    boolean pretty = false;
    boolean given = false;
    for (QueryParam p : params) {
      String name = p.name();
      String base = p.baseName();
      String baseLower = base.toLowerCase(Locale.ROOT);
      if (PAGING_PARAMS.contains(baseLower)) {
        throw Refused.of(403, IssueType.FORBIDDEN, "Hand-made paging parameters (_getpages, _getpagesoffset, _pageId, "
            + "_offset, _bundletype, _fwpage) are refused; follow the paging links fhirwall returns");
      }
      if (baseLower.equals("_method")) {
        throw Refused.invalid("The _method parameter is refused; send the real HTTP method");
      }
      String known = controlsByLowerCase.get(baseLower);
      if (known != null && !known.equals(base)) {
        throw Refused.invalid("Parameter names are case-sensitive (expected " + known + ")");
      }
      if (SINGLE_VALUED.contains(base)) {
        if (!name.equals(base) && !name.equals("_elements:exclude")) {
          throw Refused.invalid("Modifiers are not accepted on " + base);
        }
        if (!seen.add(name)) {
          throw Refused.invalid(name + " is given more than once");
        }
      }
      if (name.equals("_format")) {
        format = RequestHeaders.formatOf(p.value());
        if (format == null) {
          throw Refused.invalid("Unsupported _format (expected json, xml or ndjson, or their FHIR media types)");
        }
        given = true;
      } else if (name.equals("_pretty")) {
        if (!p.value().equals("true") && !p.value().equals("false")) {
          throw Refused.invalid("_pretty must be true or false");
        }
        pretty = p.value().equals("true");
        given = true;
      } else {
        kept.add(p);
      }
    }
    return new Controls(kept, format, pretty, given);
  }

  private List<QueryParam> ifNoneExist(String header, String type) {
    String v = header;
    if (v.startsWith("?")) {
      v = v.substring(1);
    } else {
      int q = v.indexOf('?');
      if (q > 0 && TYPE_LIKE.matcher(v.substring(0, q)).matches()) {
        if (!v.substring(0, q).equals(type)) {
          throw Refused.invalid("If-None-Exist names another resource type than the create");
        }
        v = v.substring(q + 1);
      }
    }
    checkTarget(v, "If-None-Exist header");
    Controls c = controls(QueryCodec.parse(v, "If-None-Exist header", settings));
    if (c.formatOrPrettyGiven() || c.params().isEmpty()) {
      throw Refused.invalid("If-None-Exist must hold search parameters only");
    }
    return c.params();
  }

  private FhirRequest page(Input in) {
    if (!in.method().equals("GET")) {
      throw methodNotAllowed("A paging link is followed with GET", "GET");
    }
    if (in.body().length > 0) {
      throw Refused.invalid("A GET request carries no body");
    }
    String token = null;
    Format format = null;
    boolean formatSeen = false;
    for (QueryParam p : in.urlParams()) {
      if (p.name().equals(PAGE_PARAM) && token == null) {
        token = p.value();
      } else if (p.name().equals("_format") && !formatSeen) {
        formatSeen = true;
        format = RequestHeaders.formatOf(p.value());
        if (format == null) {
          throw Refused.invalid("Unsupported _format (expected json, xml or ndjson, or their FHIR media types)");
        }
      } else {
        throw Refused.invalid("A paging link takes no parameters besides " + PAGE_PARAM + " and _format");
      }
    }
    if (token == null || token.length() > settings.maxPageTokenLength() || !PAGE_TOKEN.matcher(token).matches()) {
      throw Refused.of(403, IssueType.FORBIDDEN, "paging link not valid for this session");
    }
    RequestHeaders.Info info = in.info();
    if (info.ifNoneExist() != null) {
      throw Refused.invalid("If-None-Exist is only accepted on a create");
    }
    Format f = format != null ? format : info.accept() != null ? info.accept() : Format.JSON;
    return new FhirRequest(Interaction.PAGE, "GET", null, null, null, null, null, false, List.of(), List.of(), f,
        false, info.respondAsync(), token, RequestHeaders.forward(info, null, List.of()), List.of(),
        FhirRequest.Body.EMPTY);
  }

  // ---------------------------------------------------------------- bodies

  private FhirRequest.Body resourceBody(byte[] raw, RequestHeaders.Info info, Interaction interaction, Shape shape,
      boolean conditional) {
    if (raw.length == 0) {
      throw Refused.invalid("A " + interaction.code() + " needs a resource body");
    }
    ObjectNode resource = bodies.resource(raw, RequestBodies.kindOf(info.contentType()), "request body");
    if (!resource.path("resourceType").asText().equals(shape.type())) {
      throw Refused.invalid("The body's resourceType does not match the resource type in the URL");
    }
    if (interaction == Interaction.UPDATE && !conditional) {
      JsonNode id = resource.get("id");
      if (id != null && !(id.isTextual() && id.textValue().equals(shape.id()))) {
        throw Refused.invalid("The body's id does not match the id in the URL");
      }
    }
    return new FhirRequest.Body(bodies.bytes(resource), Format.JSON.contentType());
  }

  private FhirRequest.Body patchBody(byte[] raw, RequestHeaders.Info info, boolean inBundle) {
    if (raw.length == 0) {
      throw Refused.invalid("A patch needs a body");
    }
    RequestBodies.Kind kind = RequestBodies.kindOf(info.contentType());
    if (kind == RequestBodies.Kind.JSON_PATCH) {
      return new FhirRequest.Body(bodies.bytes(bodies.jsonPatch(raw)), RequestHeaders.JSON_PATCH);
    }
    ObjectNode resource = bodies.resource(raw, kind, "patch body");
    if (!inBundle && !resource.path("resourceType").asText().equals("Parameters")) {
      throw Refused.invalid("A FHIRPath patch body must be a Parameters resource");
    }
    return new FhirRequest.Body(bodies.bytes(resource), Format.JSON.contentType());
  }

  private static Interaction bundleType(ObjectNode bundle) {
    if (!bundle.path("resourceType").asText().equals("Bundle")) {
      throw Refused.invalid("POST to the base takes a batch or transaction Bundle");
    }
    return switch (bundle.path("type").asText("")) {
      case "batch" -> Interaction.BATCH;
      case "transaction" -> Interaction.TRANSACTION;
      default -> throw Refused.invalid("Bundle.type must be batch or transaction");
    };
  }

  private List<FhirRequest.BundleEntry> entries(ObjectNode bundle) {
    JsonNode entryNode = bundle.get("entry");
    if (entryNode == null) {
      return List.of();
    }
    if (!entryNode.isArray()) {
      throw Refused.invalid("Bundle.entry must be an array");
    }
    if (entryNode.size() > settings.maxBundleEntries()) {
      throw Refused.of(400, IssueType.TOO_COSTLY, "More than " + settings.maxBundleEntries() + " Bundle entries");
    }
    List<FhirRequest.BundleEntry> entries = new ArrayList<>(entryNode.size());
    for (int i = 0; i < entryNode.size(); i++) {
      try {
        entries.add(entry(i, entryNode.get(i)));
      } catch (Refused r) {
        Refusal inner = r.refusal();
        throw new Refused(new Refusal(inner.status(), inner.code(), "Bundle entry " + i + ": " + inner.diagnostics(),
            inner.headers(), inner.closeConnection()));
      }
    }
    return entries;
  }

  private FhirRequest.BundleEntry entry(int index, JsonNode e) {
    if (!(e instanceof ObjectNode)) {
      throw Refused.invalid("A Bundle entry must be a JSON object");
    }
    String fullUrl = optionalText(e, "fullUrl");
    JsonNode request = e.get("request");
    if (!(request instanceof ObjectNode)) {
      throw Refused.invalid("Bundle entry without a request");
    }
    String method = optionalText(request, "method");
    String url = optionalText(request, "url");
    if (method == null || url == null) {
      throw Refused.invalid("Bundle entry request needs a method and a url");
    }
    if (!METHODS.contains(method)) {
      throw Refused.invalid("Bundle entry request.method must be GET, POST, PUT, PATCH or DELETE");
    }
    if (url.startsWith("/") || url.contains("://") || url.startsWith("urn:")) {
      throw Refused.invalid("Bundle entry request.url must be relative to the base");
    }
    checkTarget(url, "Bundle entry request.url");
    JsonNode resourceNode = e.get("resource");
    if (resourceNode != null && !(resourceNode instanceof ObjectNode)) {
      throw Refused.invalid("Bundle entry resource must be a JSON object");
    }
    int q = url.indexOf('?');
    String path = q < 0 ? url : url.substring(0, q);
    String query = q < 0 ? "" : url.substring(q + 1);
    checkRelativePath(path);
    List<QueryParam> params = QueryCodec.parse(query, "Bundle entry url", settings);
    String resourceJson = resourceNode == null ? null : bodies.string(resourceNode);
    byte[] body = resourceJson == null ? new byte[0] : resourceJson.getBytes(StandardCharsets.UTF_8);
    RequestHeaders.Info info = RequestHeaders.Info.forEntry(
        entryHeader(request, "ifMatch"), entryHeader(request, "ifNoneMatch"), entryHeader(request, "ifModifiedSince"),
        entryHeader(request, "ifNoneExist"), resourceJson == null ? null : Format.JSON.contentType());
    FhirRequest classified = classify(new Input(method, segments(path), params, info, body, true));
    return new FhirRequest.BundleEntry(index, fullUrl, classified, resourceJson);
  }

  private static @Nullable String optionalText(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw Refused.invalid("Bundle entry " + field + " must be a string");
    }
    return v.textValue();
  }

  private static @Nullable String entryHeader(JsonNode request, String field) {
    String v = optionalText(request, field);
    if (v == null) {
      return null;
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < 0x20 || c >= 0x7F) {
        throw Refused.invalid("Bundle entry request." + field + " must be printable ASCII");
      }
    }
    if (v.length() > 1024) {
      throw Refused.of(400, IssueType.TOO_LONG, "Bundle entry request." + field + " is too long");
    }
    return v.isEmpty() ? null : v;
  }
}
