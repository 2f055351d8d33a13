package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.jspecify.annotations.Nullable;

/**
 * Request bodies: which media types are accepted, strict JSON reading (no duplicate keys, no
 * trailing data, exact decimals), and XML to JSON conversion with HAPI FHIR, so fhirwall only ever
 * forwards JSON it re-serialised itself. Thread-safe (the mapper is configured once, HAPI parsers
 * are made per call).
 */
final class RequestBodies {

  /** The kinds of body fhirwall accepts, by Content-Type. */
  enum Kind { FHIR_JSON, FHIR_XML, JSON_PATCH, FORM }

  private final FhirContext context;
  private final JsonMapper mapper;

  RequestBodies(FhirContext context) {
    this.context = requireNonNull(context, "context");
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(ParserSettings.MAX_BODY_DEPTH).build())
        .build();
    this.mapper = JsonMapper.builder(factory)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
        .build();
  }

  JsonMapper mapper() {
    return mapper;
  }

  /** The kind a Content-Type names; 415 for anything else, or a charset other than UTF-8. */
  static Kind kindOf(@Nullable String contentType) {
    if (contentType == null) {
      throw unsupported("A request body needs a Content-Type (FHIR JSON or XML, a JSON Patch, or a form)");
    }
    String[] parts = contentType.split(";");
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim().toLowerCase(Locale.ROOT);
      if (p.startsWith("charset=")) {
        String cs = p.substring("charset=".length()).replace("\"", "").trim();
        if (!cs.equals("utf-8") && !cs.equals("utf8")) {
          throw unsupported("Only UTF-8 request bodies are accepted");
        }
      }
    }
    String mime = parts[0].trim().toLowerCase(Locale.ROOT);
    return switch (mime) {
      case "application/fhir+json", "application/json", "application/json+fhir" -> Kind.FHIR_JSON;
      case "application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml" -> Kind.FHIR_XML;
      case RequestHeaders.JSON_PATCH -> Kind.JSON_PATCH;
      case RequestHeaders.FORM -> Kind.FORM;
      default -> throw unsupported("Unsupported request Content-Type (expected FHIR JSON or XML, "
          + "application/json-patch+json, or a form for _search)");
    };
  }

  static Refused unsupported(String diagnostics) {
    return Refused.of(415, IssueType.NOT_SUPPORTED, diagnostics);
  }

  /**
   * A FHIR resource body as a JSON object with a {@code resourceType}; XML is converted with HAPI
   * FHIR (strict: unknown elements and invalid values are refused). {@code what} names the body in
   * diagnostics.
   */
  ObjectNode resource(byte[] body, Kind kind, String what) {
    JsonNode tree = switch (kind) {
      case FHIR_JSON -> json(body, what);
      case FHIR_XML -> json(xmlToJson(body, what).getBytes(StandardCharsets.UTF_8), what);
      case JSON_PATCH, FORM -> throw unsupported("The " + what + " must be a FHIR resource (JSON or XML)");
    };
    if (!(tree instanceof ObjectNode obj) || !obj.path("resourceType").isTextual()) {
      throw Refused.invalid("The " + what + " is not a FHIR resource (a JSON object with a resourceType)");
    }
    return obj;
  }

  /** A JSON Patch document: a JSON array. */
  JsonNode jsonPatch(byte[] body) {
    JsonNode tree = json(body, "JSON Patch body");
    if (!tree.isArray()) {
      throw Refused.invalid("A JSON Patch body must be a JSON array of operations");
    }
    return tree;
  }

  /** Strict JSON: valid UTF-8 without BOM, no duplicate keys, nothing after the value. */
  JsonNode json(byte[] body, String what) {
    String text = utf8(body, what);
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      throw Refused.invalid("The " + what + " starts with a byte order mark");
    }
    try {
      JsonNode tree = mapper.readTree(text);
      if (tree == null || tree.isMissingNode()) {
        throw Refused.invalid("The " + what + " is empty");
      }
      return tree;
    } catch (StreamConstraintsException e) {
      throw Refused.invalid("The " + what + " nests objects and arrays deeper than " + ParserSettings.MAX_BODY_DEPTH
          + " levels: fhirwall could not inspect it when the EPR returns it");
    } catch (JsonProcessingException e) {
      // Jackson's message quotes the input, which may hold patient data: not passed on.
      throw Refused.invalid("The " + what + " is not valid JSON (syntax error, duplicate key or trailing data)");
    }
  }

  byte[] bytes(JsonNode tree) {
    try {
      return mapper.writeValueAsBytes(tree);
    } catch (JsonProcessingException e) {
      throw Refused.invalid("A JSON body could not be re-serialised");
    }
  }

  String string(JsonNode tree) {
    try {
      return mapper.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw Refused.invalid("A JSON body could not be re-serialised");
    }
  }

  private String xmlToJson(byte[] body, String what) {
    String text = utf8(body, what);
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.contains("<!doctype") || lower.contains("<!entity")) {
      throw Refused.invalid("DOCTYPE and ENTITY declarations are not accepted in XML bodies");
    }
    try {
      IParser xml = context.newXmlParser().setParserErrorHandler(new StrictErrorHandler());
      IBaseResource resource = xml.parseResource(text);
      return context.newJsonParser().encodeResourceToString(resource);
    } catch (RuntimeException e) {
      throw Refused.invalid("The " + what + " is not a valid FHIR XML resource");
    }
  }

  private static String utf8(byte[] body, String what) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw Refused.invalid("The " + what + " is not valid UTF-8");
    }
  }
}
