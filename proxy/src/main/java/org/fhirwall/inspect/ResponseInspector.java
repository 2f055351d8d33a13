package org.fhirwall.inspect;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import java.util.Locale;
import org.fhirwall.fhir.PatientCompartment;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads an upstream response body and names every patient it discloses.
 *
 * <p>Bodies are read by their {@code Content-Type}: FHIR JSON (any type naming json) in one
 * pass over its UTF-8 bytes ({@link JsonTokens}, as strict as Jackson's parser), no object model; NDJSON ({@code application/fhir+ndjson},
 * {@code application/ndjson}) the same, one resource per line; XML (any type naming xml) first
 * converted to FHIR JSON in one streaming pass ({@link XmlToJson}: StAX and HAPI FHIR's structure
 * definitions, no HAPI parse or model; DOCTYPEs refused, nesting bounded in the same pass) and then
 * read as JSON (that JSON is {@link Inspection.Read#json()}). A {@code Content-Encoding} of gzip or deflate is undone first,
 * never past {@link InspectorSettings#maxDecodedBytes()}. What counts as a disclosed patient is
 * described on {@link PatientKeys}; in short: every Patient resource, every reference, full URL or
 * location naming a patient, every reference on a patient-compartment owner path that cannot be
 * resolved (counted as a patient of its own rather than not at all), and every {@code Patient/<id>} written in a body
 * that holds an {@code OperationOutcome} ({@link OutcomeText}: an EPR's explanation may name a patient).
 *
 * <p>Fails closed: an empty body is a {@link Inspection.Read} with no patients; anything else that
 * is not a complete, well-formed FHIR body within the limits (HTML, malformed or truncated JSON or
 * XML, an XML element the FHIR definitions do not have, nesting deeper than
 * {@link InspectorSettings#maxDepth()}, an unknown {@code resourceType}, an unsupported encoding or
 * charset) is {@link Inspection.Unreadable}, whose reason never carries patient data. No exception
 * escapes {@link #inspect}.
 *
 * <p>Thread-safe and free of I/O; an XML body costs its conversion to JSON on top of the JSON read.
 * Each thread that inspects keeps one JSON walk's scratch (its frames and collections, emptied
 * between bodies; no body is kept).
 */
public final class ResponseInspector {
  private static final Logger log = LoggerFactory.getLogger(ResponseInspector.class);

  private final WalkModel model;
  private final XmlToJson xml;
  /** Each thread's JSON walk, reused body after body (its frames and collections are scratch). */
  private final ThreadLocal<JsonWalk> walks;
  private final JsonWalk.EmbeddedReader embedded = this::readEmbedded;

  public ResponseInspector(FhirContext context, PatientCompartment compartment, InspectorSettings settings) {
    requireNonNull(context, "context");
    requireNonNull(compartment, "compartment");
    requireNonNull(settings, "settings");
    this.model = new WalkModel(context.getResourceTypes(), compartment, settings);
    this.xml = new XmlToJson(new ElementShapes(context, model.knownTypes), model.maxDepth, model.maxDecodedBytes);
    WalkModel walkModel = model;
    this.walks = ThreadLocal.withInitial(() -> new JsonWalk(walkModel));
  }

  /** What {@code body} discloses; never throws. */
  public Inspection inspect(ResponseBody body) {
    requireNonNull(body, "body");
    try {
      byte[] bytes = ContentDecoding.decode(body.bytes(), body.contentEncoding(), model.maxDecodedBytes);
      return read(bytes, body.contentType(), 0);
    } catch (UnreadableException e) {
      return new Inspection.Unreadable(e.reason());
    } catch (RuntimeException e) {
      // The message may quote the body: log the type only.
      log.warn("response inspection failed with {}", e.getClass().getName());
      return new Inspection.Unreadable("inspection failed (" + e.getClass().getSimpleName() + ")");
    }
  }

  private Inspection.Read read(byte[] bytes, @Nullable String contentType, int nesting) throws UnreadableException {
    if (isBlank(bytes)) {
      return Inspection.Read.nothing(bytes);
    }
    Inspection.Read read = switch (format(contentType, bytes)) {
      case JSON -> walk(bytes, false, nesting);
      case NDJSON -> walk(bytes, true, nesting);
      case XML -> walk(xml.convert(bytes), false, nesting);
    };
    return OutcomeText.holdsOutcome(read) ? read.withPatients(OutcomeText.patients(read.json())) : read;
  }

  private Inspection.Read walk(byte[] json, boolean ndjson, int nesting) throws UnreadableException {
    if (json.length >= 2 && (json[0] == 0 || json[1] == 0 || (json[0] & 0xFF) == 0xFE || (json[0] & 0xFF) == 0xFF)) {
      throw new UnreadableException("JSON body is not UTF-8");
    }
    JsonWalk scratch = walks.get();
    // Inline content is walked while its container's walk is under way on this thread: by a walk of its own.
    JsonWalk walk = scratch.busy() ? new JsonWalk(model) : scratch;
    return walk.run(json, ndjson, embedded, nesting);
  }

  private Inspection readEmbedded(byte[] content, String contentType, int nesting) {
    try {
      if (content.length > model.maxDecodedBytes) {
        throw new UnreadableException("content larger than " + model.maxDecodedBytes + " bytes");
      }
      return read(content, contentType, nesting);
    } catch (UnreadableException e) {
      return new Inspection.Unreadable(e.reason());
    }
  }

  private enum Kind { JSON, NDJSON, XML }

  private static Kind format(@Nullable String contentType, byte[] bytes) throws UnreadableException {
    if (contentType == null || contentType.isBlank()) {
      if (firstNonBlank(bytes) == '{') {
        return Kind.JSON;
      }
      throw new UnreadableException("body without Content-Type is not JSON");
    }
    if (contentType.equals("application/fhir+json") || contentType.equals("application/fhir+json;charset=UTF-8")
        || contentType.equals("application/fhir+json; charset=UTF-8")) {
      return Kind.JSON; // what HAPI FHIR servers send: spare the parsing below
    }
    String type = contentType.toLowerCase(Locale.ROOT);
    int semicolon = type.indexOf(';');
    String mime = (semicolon < 0 ? type : type.substring(0, semicolon)).trim();
    String charset = charset(type);
    if (mime.endsWith("ndjson")) {
      requireUtf8(charset);
      return Kind.NDJSON;
    }
    if (mime.contains("json")) {
      requireUtf8(charset);
      return Kind.JSON;
    }
    if (mime.contains("xml")) {
      requireUtf8(charset);
      return Kind.XML;
    }
    throw new UnreadableException("body is not FHIR (Content-Type " + printable(mime) + ")");
  }

  private static @Nullable String charset(String contentType) {
    for (String param : contentType.split(";")) {
      String p = param.trim();
      if (p.startsWith("charset=")) {
        String value = p.substring("charset=".length()).trim();
        return value.replace("\"", "");
      }
    }
    return null;
  }

  private static void requireUtf8(@Nullable String charset) throws UnreadableException {
    if (charset != null && !charset.equals("utf-8") && !charset.equals("utf8")) {
      throw new UnreadableException("unsupported charset " + printable(charset));
    }
  }

  private static boolean isBlank(byte[] bytes) {
    return firstNonBlank(bytes) < 0;
  }

  private static int firstNonBlank(byte[] bytes) {
    for (byte b : bytes) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return b & 0xFF;
      }
    }
    return -1;
  }

  private static String printable(String s) {
    String t = s.length() > 64 ? s.substring(0, 64) : s;
    return t.replaceAll("[^A-Za-z0-9/+.;=_-]", "?");
  }
}
