package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.ValidationMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The networknt validator's messages in an operator's words: each turned into a
 * {@link ConfigProblem} {@code file:line:column: key: value (expected: ...)}, where the expectation
 * is read from the {@link Schema} ({@code x-expected}, the type, enum, range or known keys) and a
 * missing key names the environment variable or flag that could set it.
 */
final class SchemaMessages {
  private final Schema schema;

  SchemaMessages(Schema schema) {
    this.schema = requireNonNull(schema, "schema");
  }

  ConfigProblem problem(ValidationMessage m, Locations where) {
    List<Object> path = elements(m.getInstanceLocation());
    JsonNode rule = ruleOf(m);
    JsonNode value = m.getInstanceNode();
    String type = m.getType();
    String property = m.getProperty();
    switch (type) {
      case "required" -> {
        List<Object> missing = new ArrayList<>(path);
        missing.add(property);
        return where.ofKey(Locations.pointer(path)).problem(Locations.display(missing), "missing (required" + setBy(missing) + ")");
      }
      case "additionalProperties" -> {
        List<Object> unknown = new ArrayList<>(path);
        unknown.add(property);
        List<String> known = new ArrayList<>();
        rule.path("properties").fieldNames().forEachRemaining(known::add);
        return where.ofKey(Locations.pointer(unknown)).problem(Locations.display(unknown),
            known.isEmpty() ? "unknown key" : "unknown key (expected one of: " + String.join(", ", known) + ")");
      }
      case "propertyNames" -> {
        String key = property != null ? property : m.getArguments().length > 0 ? String.valueOf(m.getArguments()[0]) : "?";
        List<Object> named = new ArrayList<>(path);
        named.add(key);
        JsonNode names = rule.path("propertyNames");
        return where.ofKey(Locations.pointer(named)).problem(Locations.display(named), "not an allowed name (expected: "
            + names.path("x-expected").asText("a name matching " + names.path("pattern").asText()) + ")");
      }
      default -> {
        return where.ofValue(Locations.pointer(path)).problem(Locations.display(path), valueMessage(type, value, rule, m));
      }
    }
  }

  private String valueMessage(String type, JsonNode value, JsonNode rule, ValidationMessage m) {
    String shown = shown(value);
    return switch (type) {
      case "type" -> shown + " (expected: " + expectedType(rule) + ")";
      case "enum" -> shown + " (expected one of: " + enumValues(rule) + ")";
      case "pattern" -> shown + " (expected: " + rule.path("x-expected").asText("text matching " + rule.path("pattern").asText()) + ")";
      case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" -> shown + " (expected: " + range(rule) + ")";
      case "minItems" -> (value.isEmpty() ? "empty" : shown) + " (expected: at least " + rule.path("minItems").asInt() + " value(s))";
      case "minLength" -> "empty value (expected: " + rule.path("x-expected").asText("some text") + ")";
      case "minProperties" -> "empty (expected: at least one of: " + String.join(", ", fieldNames(schema.effective(rule).path("properties"))) + ")";
      default -> {
        String message = m.getMessage();
        int colon = message.indexOf(": ");
        yield colon >= 0 ? message.substring(colon + 2) : message;
      }
    };
  }

  /** The schema object holding the keyword that failed. */
  private JsonNode ruleOf(ValidationMessage m) {
    JsonNodePath fragment = m.getSchemaLocation().getFragment();
    JsonNode s = schema.root();
    for (int i = 0; i < fragment.getNameCount() - 1; i++) {
      Object e = fragment.getElement(i);
      s = e instanceof Integer idx ? s.path(idx) : s.path(String.valueOf(e));
    }
    return schema.effective(s);
  }

  private static List<Object> elements(JsonNodePath p) {
    List<Object> out = new ArrayList<>(p.getNameCount());
    for (int i = 0; i < p.getNameCount(); i++) {
      out.add(p.getElement(i));
    }
    return out;
  }

  /** For a missing key: how else it can be set ({@code ; or FHIRWALL_UPSTREAM_URL, or --upstream}). */
  private String setBy(List<Object> path) {
    String prefix = schema.envPrefix();
    if (prefix == null) {
      return "";
    }
    List<String> names = new ArrayList<>();
    path.forEach(e -> names.add(String.valueOf(e)));
    JsonNode s = schema.keySchema(names);
    JsonNode flag = schema.effective(s).get("x-flag");
    String how = "; or " + Schema.envName(prefix, names);
    if (flag != null) {
      how += ", or " + flag.asText();
    } else if (schema.types(s).contains("object")) {
      return "";
    }
    return how;
  }


  private String expectedType(JsonNode rule) {
    Set<String> types = schema.types(rule);
    List<String> words = new ArrayList<>();
    for (String t : types) {
      words.add(switch (t) {
        case "string" -> rule.has("x-expected") ? rule.get("x-expected").asText() : "text";
        case "integer" -> rule.has("minimum") || rule.has("maximum") ? "a whole number " + range(rule) : "a whole number";
        case "number" -> "a number " + range(rule);
        case "boolean" -> "true or false";
        case "array" -> "a list";
        case "object" -> "a mapping of keys to values";
        default -> t;
      });
    }
    return String.join(" or ", words);
  }

  private static String range(JsonNode rule) {
    String low = rule.has("exclusiveMinimum") ? "> " + rule.get("exclusiveMinimum").asText()
        : rule.has("minimum") ? rule.get("minimum").asText() : null;
    String high = rule.has("exclusiveMaximum") ? "< " + rule.get("exclusiveMaximum").asText()
        : rule.has("maximum") ? rule.get("maximum").asText() : null;
    if (low != null && high != null) {
      return rule.has("exclusiveMinimum") || rule.has("exclusiveMaximum")
          ? (low.startsWith(">") ? low : ">= " + low) + " and " + (high.startsWith("<") ? high : "<= " + high)
          : low + ".." + high;
    }
    return low != null ? (low.startsWith(">") ? low : ">= " + low) : high != null ? (high.startsWith("<") ? high : "<= " + high) : "any";
  }

  private static String enumValues(JsonNode rule) {
    List<String> out = new ArrayList<>();
    rule.path("enum").forEach(v -> out.add(v.asText()));
    return String.join(", ", out);
  }

  private static List<String> fieldNames(JsonNode object) {
    List<String> out = new ArrayList<>();
    object.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /** A value as an operator wrote it, for messages. */
  static String shown(@Nullable JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return "empty value";
    }
    if (value.isTextual()) {
      return value.asText().isEmpty() ? "empty value" : value.asText();
    }
    if (value.isArray()) {
      List<String> items = new ArrayList<>();
      value.forEach(v -> items.add(shown(v)));
      return "[" + String.join(", ", items) + "]";
    }
    if (value.isObject()) {
      return "a mapping";
    }
    return value.asText();
  }
}
