package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
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
 * <p>The path is read by {@link RequestPaths}, the parameters by {@link RequestParams} and the
 * bodies by {@link InteractionBodies}; this class runs them in order and builds the result.
 *
 * <p>Thread-safe and free of I/O; one instance serves every request. XML bodies and large bundles
 * cost real CPU: callers parse requests with bodies off the event loops.
 */
public final class RequestParser {
  private static final Logger log = LoggerFactory.getLogger(RequestParser.class);

  /** The parameter of fhirwall's own paging links. */
  public static final String PAGE_PARAM = "_fwpage";

  private static final Set<String> READ_PARAMS = Set.of("_summary", "_elements", "_elements:exclude");
  private static final Pattern PAGE_TOKEN = Pattern.compile("[A-Za-z0-9_-]+");

  private final ParserSettings settings;
  private final RequestBodies bodies;
  private final RequestPaths paths;
  private final RequestParams requestParams;
  private final InteractionBodies interactionBodies;

  public RequestParser(FhirContext context, ParserSettings settings) {
    requireNonNull(context, "context");
    this.settings = requireNonNull(settings, "settings");
    this.bodies = new RequestBodies(context);
    this.paths = new RequestPaths(context.getResourceTypes(), settings);
    this.requestParams = new RequestParams(settings, paths);
    this.interactionBodies = new InteractionBodies(settings, paths, bodies,
        new BodyReferences(requestParams, paths, context.getResourceTypes()),
        new BodyPatients(PatientCompartment.from(context), paths));
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
    if (!RequestPaths.METHODS.contains(method)) {
      throw RequestPaths.methodNotAllowed("This method is not supported", RequestPaths.ALL_METHODS);
    }
    RequestHeaders.checkHeaders(raw);
    if (raw.body().length > settings.maxBodyBytes()) {
      throw Refused.of(413, IssueType.TOO_LONG, "Request body larger than " + settings.maxBodyBytes() + " bytes");
    }
    String target = raw.target();
    paths.checkTarget(target, "request target");
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? "" : target.substring(q + 1);
    RequestPaths.checkPath(path);
    String base = settings.basePath();
    if (!path.equals(base) && !path.startsWith(base + "/")) {
      throw Refused.of(404, IssueType.NOT_FOUND, "Not a FHIR path of this server");
    }
    String relative = path.substring(base.length());
    relative = relative.isEmpty() ? relative : relative.substring(1);
    List<QueryParam> urlParams = QueryCodec.parse(query, "query string", settings);
    RequestHeaders.Info info = RequestHeaders.read(raw);
    return classify(new Input(method, RequestPaths.segments(relative), urlParams, info, raw.body(), false));
  }

  // ---------------------------------------------------------------- classification

  /** A request reduced to what classification needs; bundle entries come through here too. */
  record Input(String method, List<String> segments, List<QueryParam> urlParams,
      RequestHeaders.Info info, byte[] body, boolean inBundle) {}

  private FhirRequest classify(Input in) {
    RequestPaths.Shape shape = paths.shape(in.segments());
    String m = in.method();
    if (shape.kind() == RequestPaths.Kind.BASE && !in.inBundle() && RequestParams.hasParamIgnoringCase(in.urlParams(), PAGE_PARAM)) {
      return page(in);
    }
    if (shape.kind() == RequestPaths.Kind.BASE && in.inBundle()) {
      throw Refused.invalid("A Bundle entry cannot address the base (nested batches and system searches inside a Bundle are not accepted)");
    }
    Interaction interaction = RequestPaths.interaction(shape, m, in.inBundle());
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
      params = requestParams.mergeForm(params, raw, info.contentType());
    }
    RequestParams.Controls controls = requestParams.controls(params);
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
      case CREATE, BATCH -> RequestParams.noParams(params, interaction);
      case UPDATE, PATCH, DELETE -> {
        conditional = shape.kind() == RequestPaths.Kind.TYPE;
        if (conditional && params.isEmpty()) {
          throw Refused.invalid("A conditional " + interaction.code() + " needs search parameters");
        }
        if (!conditional) {
          RequestParams.noParams(params, interaction);
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
      ifNoneExist = requestParams.ifNoneExist(info.ifNoneExist(), requireNonNull(shape.type()));
      conditional = true;
    }

    FhirRequest.Body body = FhirRequest.Body.EMPTY;
    List<FhirRequest.BundleEntry> entries = List.of();
    switch (interaction) {
      case CREATE, UPDATE -> body = interactionBodies.resourceBody(raw, info, interaction, shape, conditional);
      case PATCH -> body = interactionBodies.patchBody(raw, info, in.inBundle());
      case OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE -> {
        ObjectNode resource = raw.length == 0 ? null
            : bodies.resource(raw, RequestBodies.kindOf(info.contentType()), "operation body");
        body = interactionBodies.operationBody(resource, params);
      }
      case BATCH -> {
        if (raw.length == 0) {
          throw Refused.invalid("POST to the base needs a batch or transaction Bundle");
        }
        ObjectNode bundle = bodies.resource(raw, RequestBodies.kindOf(info.contentType()), "request body");
        interaction = InteractionBodies.bundleType(bundle);
        entries = interactionBodies.entries(bundle, this::classify);
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

  private FhirRequest page(Input in) {
    if (!in.method().equals("GET")) {
      throw RequestPaths.methodNotAllowed("A paging link is followed with GET", "GET");
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
}
