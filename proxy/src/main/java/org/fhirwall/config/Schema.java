package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.AnnotationKeyword;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * One of the two configuration schemas ({@code policies/deployment.schema.json},
 * {@code policies/schema.json}, shipped in the jar beside this class), and everything read from
 * it: validation (the networknt validator, its messages turned by {@link SchemaMessages} into
 * {@code file:line:column: key: value (expected: ...)}), typing of YAML scalars by the type the
 * schema expects, defaults, the bounds of durations and sizes, the keys that environment variables
 * and flags may set.
 *
 * <p>Besides standard JSON Schema 2020-12 the schemas carry annotations of their own, all
 * prefixed {@code x-}: {@code x-expected} (what a pattern means, for messages),
 * {@code x-default} (a default described in words, for the documentation),
 * {@code x-default-user}/{@code x-default-service} (defaults that differ by a role's principal
 * kind), {@code x-unit} with {@code x-minimum}/{@code x-maximum} (bounds of a duration or size),
 * {@code x-flag} (the {@code serve} flag that sets a key), {@code x-env-prefix} (on the root: the
 * prefix of the environment variables that set keys) and {@code x-doc-row} (document an object as
 * one row). Immutable and thread-safe.
 */
final class Schema {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");
  private static final Pattern NUMBER = Pattern.compile("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
  private static final Set<String> TRUE = Set.of("true", "yes", "on");
  private static final Set<String> FALSE = Set.of("false", "no", "off");

  static final Schema DEPLOYMENT = load("deployment.schema.json");
  static final Schema ROLE = load("schema.json");

  private final String name;
  private final JsonNode root;
  private final JsonSchema validator;

  private Schema(String name, JsonNode root) {
    this.name = name;
    this.root = root;
    // Unknown keywords are an error in our own schemas, except our x- annotations.
    JsonMetaSchema meta = JsonMetaSchema.builder(JsonMetaSchema.getV202012())
        .unknownKeywordFactory((keyword, context) -> {
          if (keyword.startsWith("x-")) {
            return new AnnotationKeyword(keyword);
          }
          throw new IllegalStateException(name + ": unknown schema keyword " + keyword);
        })
        .build();
    JsonSchemaFactory factory = JsonSchemaFactory.builder(JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012))
        .metaSchema(meta)
        .build();
    this.validator = factory.getSchema(root, SchemaValidatorsConfig.builder().pathType(PathType.JSON_POINTER).build());
  }

  static Schema load(String resource) {
    try (InputStream in = Schema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("schema " + resource + " missing from the jar (expected beside " + Schema.class.getName() + ")");
      }
      return new Schema(resource, JSON.readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema " + resource, e);
    }
  }

  String name() {
    return name;
  }

  JsonNode root() {
    return root;
  }

  /** The prefix of environment variables that set keys ({@code FHIRWALL_}); null when keys are not set from the environment. */
  @Nullable String envPrefix() {
    JsonNode p = root.get("x-env-prefix");
    return p == null ? null : p.asText();
  }

  // ---- reading the schema ------------------------------------------------------------------

  /** {@code s} with a local {@code $ref} replaced by its target, the keywords beside the {@code $ref} winning. */
  JsonNode effective(@Nullable JsonNode s) {
    if (s == null || !s.isObject()) {
      return JsonNodeFactory.instance.objectNode();
    }
    JsonNode ref = s.get("$ref");
    if (ref == null) {
      return s;
    }
    String target = ref.asText();
    if (!target.startsWith("#/")) {
      throw new IllegalStateException(name + ": only local $ref is supported, not " + target);
    }
    JsonNode resolved = root.at(target.substring(1));
    if (resolved.isMissingNode()) {
      throw new IllegalStateException(name + ": $ref " + target + " points nowhere");
    }
    ObjectNode merged = effective(resolved).deepCopy();
    s.fields().forEachRemaining(e -> {
      if (!e.getKey().equals("$ref")) {
        merged.set(e.getKey(), e.getValue());
      }
    });
    return merged;
  }

  /** The schema of a key given by its path of names; null when the schema has no such key. */
  @Nullable JsonNode keySchema(List<String> path) {
    JsonNode s = root;
    for (String n : path) {
      s = member(s, n);
      if (s == null) {
        return null;
      }
    }
    return s;
  }

  /** The schema of member {@code name} of an object of schema {@code objectSchema}; null when it may not exist. */
  @Nullable JsonNode member(@Nullable JsonNode objectSchema, String name) {
    JsonNode s = effective(objectSchema);
    JsonNode p = s.path("properties").get(name);
    if (p != null) {
      return p;
    }
    JsonNode additional = s.get("additionalProperties");
    return additional != null && additional.isObject() ? additional : null;
  }

  /** The schema of the items of an array of schema {@code arraySchema}. */
  @Nullable JsonNode items(@Nullable JsonNode arraySchema) {
    JsonNode items = effective(arraySchema).get("items");
    return items != null && items.isObject() ? items : null;
  }

  /** The JSON types a schema allows ({@code string}, {@code integer}, ...); those of its enum when it has no type; empty: any. */
  Set<String> types(@Nullable JsonNode schema) {
    JsonNode s = effective(schema);
    Set<String> out = new LinkedHashSet<>();
    JsonNode type = s.get("type");
    if (type != null && type.isTextual()) {
      out.add(type.asText());
    } else if (type != null && type.isArray()) {
      type.forEach(t -> out.add(t.asText()));
    } else if (s.has("enum")) {
      for (JsonNode v : s.get("enum")) {
        out.add(v.isTextual() ? "string" : v.isBoolean() ? "boolean" : v.isIntegralNumber() ? "integer" : "number");
      }
    }
    return out;
  }

  // ---- typing ------------------------------------------------------------------------------

  /**
   * A YAML scalar as the JSON value the schema expects there: {@code 8080} is text where text is
   * expected and a number where a number is; {@code yes}/{@code on} are booleans where a boolean
   * is. A value that fits none of the expected types keeps the YAML reading (so the schema can
   * name the mismatch): quoted text stays text, an empty plain value is null.
   *
   * @param plain whether the scalar was written without quotes
   */
  JsonNode scalar(String text, boolean plain, @Nullable JsonNode schema) {
    Set<String> types = types(schema);
    String t = text.trim();
    if (plain && t.isEmpty()) {
      return types.contains("array") ? JsonNodeFactory.instance.arrayNode() : NullNode.getInstance();
    }
    if (types.contains("array")) {
      ArrayNode one = JsonNodeFactory.instance.arrayNode();
      one.add(scalar(text, plain, items(schema)));
      return one;
    }
    if ((types.contains("integer") || types.contains("number")) && INTEGER.matcher(t).matches()) {
      return integer(t);
    }
    if (types.contains("number") && NUMBER.matcher(t).matches()) {
      return new DoubleNode(new BigDecimal(t).doubleValue());
    }
    String lower = t.toLowerCase(Locale.ROOT);
    if (types.contains("boolean") && (TRUE.contains(lower) || FALSE.contains(lower))) {
      return BooleanNode.valueOf(TRUE.contains(lower));
    }
    if (types.contains("string") || !plain) {
      return TextNode.valueOf(text);
    }
    if (lower.equals("~") || lower.equals("null")) {
      return NullNode.getInstance();
    }
    if (INTEGER.matcher(t).matches()) {
      return integer(t);
    }
    if (NUMBER.matcher(t).matches()) {
      return new DoubleNode(new BigDecimal(t).doubleValue());
    }
    if (TRUE.contains(lower) || FALSE.contains(lower)) {
      return BooleanNode.valueOf(TRUE.contains(lower));
    }
    return TextNode.valueOf(text);
  }

  /** A value given as one string (an environment variable, a flag): a list where the schema expects one, split at commas. */
  JsonNode override(String text, @Nullable JsonNode schema) {
    if (types(schema).contains("array")) {
      ArrayNode list = JsonNodeFactory.instance.arrayNode();
      for (String part : text.split(",")) {
        if (!part.isBlank()) {
          list.add(scalar(part.trim(), true, items(schema)));
        }
      }
      return list;
    }
    return scalar(text, true, schema);
  }

  private static JsonNode integer(String t) {
    BigInteger b = new BigInteger(t.startsWith("+") ? t.substring(1) : t);
    return b.bitLength() < 32 ? JsonNodeFactory.instance.numberNode(b.intValue())
        : b.bitLength() < 64 ? JsonNodeFactory.instance.numberNode(b.longValue())
        : JsonNodeFactory.instance.numberNode(b);
  }

  // ---- defaults and bounds -----------------------------------------------------------------

  /**
   * Fills in, in place, every absent key that has a default: {@code x-default-<variant>} when
   * given (a role's {@code user} or {@code service}), else {@code default}. An absent object is
   * created only when it has a default itself ({@code "default": {}}), so optional sections such
   * as {@code tls} or {@code break-glass} stay absent.
   */
  void applyDefaults(JsonNode instance, @Nullable String variant) {
    applyDefaults(instance, root, variant);
  }

  private void applyDefaults(JsonNode instance, @Nullable JsonNode schema, @Nullable String variant) {
    JsonNode s = effective(schema);
    if (instance instanceof ObjectNode object) {
      for (Iterator<Map.Entry<String, JsonNode>> it = s.path("properties").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        if (!object.has(p.getKey())) {
          JsonNode d = defaultOf(p.getValue(), variant);
          if (d != null) {
            object.set(p.getKey(), d.deepCopy());
          }
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        applyDefaults(e.getValue(), member(s, e.getKey()), variant);
      }
    } else if (instance instanceof ArrayNode array) {
      JsonNode items = items(s);
      array.forEach(item -> applyDefaults(item, items, variant));
    }
  }

  /** The default of a key for a variant ({@code user}, {@code service}, or null), or null when it has none. */
  @Nullable JsonNode defaultOf(@Nullable JsonNode schema, @Nullable String variant) {
    JsonNode s = effective(schema);
    if (variant != null && s.has("x-default-" + variant)) {
      return s.get("x-default-" + variant);
    }
    return s.get("default");
  }

  /** Checks the {@code x-minimum}/{@code x-maximum} of every duration and size in {@code instance}. */
  void checkBounds(JsonNode instance, Locations where, Problems problems) {
    checkBounds(instance, root, new ArrayList<>(), where, problems);
  }

  private void checkBounds(JsonNode instance, @Nullable JsonNode schema, List<Object> path, Locations where, Problems problems) {
    JsonNode s = effective(schema);
    if (instance.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = instance.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        path.add(e.getKey());
        checkBounds(e.getValue(), member(s, e.getKey()), path, where, problems);
        path.remove(path.size() - 1);
      }
      return;
    }
    if (instance.isArray()) {
      for (int i = 0; i < instance.size(); i++) {
        path.add(i);
        checkBounds(instance.get(i), items(s), path, where, problems);
        path.remove(path.size() - 1);
      }
      return;
    }
    String unit = s.path("x-unit").asText("");
    if (unit.isEmpty() || !(s.has("x-minimum") || s.has("x-maximum"))) {
      return;
    }
    boolean duration = unit.equals("duration");
    long value;
    try {
      value = Units.magnitude(instance, duration);
    } catch (IllegalArgumentException e) {
      return; // the pattern check has reported it
    }
    JsonNode min = s.get("x-minimum");
    JsonNode max = s.get("x-maximum");
    boolean low = min != null && value < Units.magnitude(min, duration);
    boolean high = max != null && value > Units.magnitude(max, duration);
    if (low || high) {
      String expected = min != null && max != null ? "between " + min.asText() + " and " + max.asText()
          : min != null ? "at least " + min.asText() : "at most " + max.asText();
      problems.add(where.ofValue(Locations.pointer(path)), Locations.display(path),
          instance.asText() + " (expected: " + expected + ")");
    }
  }

  // ---- validation --------------------------------------------------------------------------

  /** Validates {@code instance}; every problem is located through {@code where}, in file order. */
  void validate(JsonNode instance, Locations where, Problems problems) {
    SchemaMessages messages = new SchemaMessages(this);
    List<ConfigProblem> found = new ArrayList<>();
    for (ValidationMessage m : validator.validate(instance)) {
      found.add(messages.problem(m, where));
    }
    found.stream()
        .sorted(Comparator.comparing(ConfigProblem::file).thenComparingInt(ConfigProblem::line)
            .thenComparingInt(ConfigProblem::column).thenComparing(ConfigProblem::key))
        .distinct()
        .forEach(problems::add);
  }

  // ---- keys --------------------------------------------------------------------------------

  /** A key an environment variable or a flag may set: a scalar or a list of scalars. */
  record Key(List<String> path, JsonNode schema) {
    Key {
      path = List.copyOf(path);
      requireNonNull(schema, "schema");
    }

    String display() {
      return String.join(".", path);
    }
  }

  /** Every key that holds a scalar or a list of scalars, in schema order. */
  List<Key> scalarKeys() {
    List<Key> out = new ArrayList<>();
    collectKeys(root, new ArrayList<>(), out);
    return out;
  }

  private void collectKeys(JsonNode schema, List<String> path, List<Key> out) {
    JsonNode s = effective(schema);
    for (Iterator<Map.Entry<String, JsonNode>> it = s.path("properties").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      path.add(p.getKey());
      Set<String> types = types(p.getValue());
      if (types.contains("object")) {
        collectKeys(p.getValue(), path, out);
      } else if (!types.contains("array") || !types(items(p.getValue())).contains("object")) {
        out.add(new Key(path, p.getValue()));
      }
      path.remove(path.size() - 1);
    }
  }

  /** The key a {@code serve} flag sets ({@code --listen} → {@code listen}). */
  Key keyOfFlag(String flag) {
    for (Key k : scalarKeys()) {
      if (flag.equals(effective(k.schema()).path("x-flag").asText(null))) {
        return k;
      }
    }
    throw new IllegalArgumentException("flag " + flag + " (expected one of: " + flags() + ")");
  }

  /** Every flag the schema names, in schema order. */
  List<String> flags() {
    return scalarKeys().stream().map(k -> effective(k.schema()).path("x-flag").asText(""))
        .filter(f -> !f.isEmpty()).collect(Collectors.toList());
  }

  /** The environment variable that sets the key at {@code path} ({@code FHIRWALL_UPSTREAM_URL}). */
  static String envName(String prefix, List<String> path) {
    return prefix + String.join("_", path).replace('-', '_').replace('.', '_').toUpperCase(Locale.ROOT);
  }
}
