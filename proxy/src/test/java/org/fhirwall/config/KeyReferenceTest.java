package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The key tables of README.md and docs/policy-rules.md are generated from the schemas' keys,
 * descriptions and defaults, between {@code <!-- generated: NAME -->} and
 * {@code <!-- end generated -->}; this test fails when a committed table differs from what the
 * schema says. To rewrite the tables after changing a schema:
 * {@code mvn -o -pl proxy test -Dtest=KeyReferenceTest -Dfhirwall.docs.update=true}.
 */
class KeyReferenceTest {
  static final Path ROOT = Path.of(System.getProperty("fhirwall.policies.dir", "../policies")).resolve("..").normalize();
  static final String END = "<!-- end generated -->";

  static Stream<Arguments> tables() {
    return Stream.of(
        Arguments.of("README.md", "deployment keys", deploymentKeys()),
        Arguments.of("README.md", "role policy keys", roleKeys()),
        Arguments.of("docs/policy-rules.md", "role policy keys", roleKeys()),
        Arguments.of("docs/policy-rules.md", "built-in search parameters", builtInParameters()));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("tables")
  void theCommittedTableIsTheSchemas(String file, String name, String generated) throws Exception {
    Path path = ROOT.resolve(file);
    String text = Files.readString(path, StandardCharsets.UTF_8);
    String begin = "<!-- generated: " + name + " -->\n";
    int start = text.indexOf(begin);
    assertThat(start).as(file + " has a section " + begin.trim()).isNotNegative();
    int from = start + begin.length();
    int to = text.indexOf(END, from);
    assertThat(to).as(file + ": " + begin.trim() + " ends with " + END).isPositive();
    if (Boolean.getBoolean("fhirwall.docs.update")) {
      Files.writeString(path, text.substring(0, from) + generated + text.substring(to), StandardCharsets.UTF_8);
      return;
    }
    assertThat(text.substring(from, to)).as(file + ": table '" + name + "' differs from the schema; rewrite it with "
        + "mvn -o -pl proxy test -Dtest=KeyReferenceTest -Dfhirwall.docs.update=true").isEqualTo(generated);
  }

  static String deploymentKeys() {
    return table(Schema.DEPLOYMENT);
  }

  static String roleKeys() {
    return table(Schema.ROLE);
  }

  /** One row per key: objects are opened unless marked {@code x-doc-row}; lists and free-form mappings are one row. */
  static String table(Schema schema) {
    StringBuilder out = new StringBuilder("| key | default | meaning |\n| --- | --- | --- |\n");
    rows(schema, schema.root(), "", out);
    return out.toString();
  }

  private static void rows(Schema schema, JsonNode objectSchema, String prefix, StringBuilder out) {
    JsonNode s = schema.effective(objectSchema);
    Set<String> required = new java.util.HashSet<>();
    s.path("required").forEach(r -> required.add(r.asText()));
    for (Iterator<Map.Entry<String, JsonNode>> it = s.path("properties").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      JsonNode key = schema.effective(p.getValue());
      String name = prefix + p.getKey();
      if (key.has("properties") && !key.path("x-doc-row").asBoolean(false)) {
        rows(schema, p.getValue(), name + ".", out);
        continue;
      }
      String meaning = key.path("description").asText();
      if (meaning.isEmpty()) {
        throw new AssertionError(schema.name() + ": " + name + " has no description");
      }
      if (key.has("x-flag")) {
        meaning += " Flag: `" + key.get("x-flag").asText() + "`.";
      }
      out.append("| `").append(name).append("` | ").append(defaultText(key, required.contains(p.getKey()))).append(" | ")
          .append(meaning.replace("|", "\\|")).append(" |\n");
    }
  }

  private static String defaultText(JsonNode key, boolean required) {
    if (key.has("x-default")) {
      return key.get("x-default").asText();
    }
    if (key.has("x-default-user")) {
      return "user: " + code(key.get("x-default-user")) + ", service: " + code(key.get("x-default-service"));
    }
    if (key.has("default")) {
      JsonNode d = key.get("default");
      return d.isArray() && d.isEmpty() ? "none" : code(d);
    }
    return required ? "*required*" : "none";
  }

  private static String code(JsonNode value) {
    if (value.isArray()) {
      List<String> items = new ArrayList<>();
      value.forEach(v -> items.add(v.asText()));
      return "`[" + String.join(", ", items) + "]`";
    }
    return "`" + value.asText() + "`";
  }

  /** The role schema's default {@code search.parameters}, types with the same list on one row. */
  static String builtInParameters() {
    JsonNode defaults = Schema.ROLE.effective(Schema.ROLE.keySchema(List.of("search", "parameters"))).get("default");
    StringBuilder out = new StringBuilder("| type | parameters |\n| --- | --- |\n");
    List<String> types = new ArrayList<>();
    String previous = null;
    for (Iterator<Map.Entry<String, JsonNode>> it = defaults.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      List<String> names = new ArrayList<>();
      e.getValue().forEach(v -> names.add("`" + v.asText() + "`"));
      String list = String.join(", ", names);
      if (previous != null && !list.equals(previous)) {
        out.append("| ").append(String.join(", ", types)).append(" | ").append(previous).append(" |\n");
        types.clear();
      }
      types.add(e.getKey().equals("*") ? "every other type" : "`" + e.getKey() + "`");
      previous = list;
    }
    out.append("| ").append(String.join(", ", types)).append(" | ").append(previous).append(" |\n");
    return out.toString();
  }
}
