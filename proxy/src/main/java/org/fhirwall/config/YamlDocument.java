package org.fhirwall.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.StringReader;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads one YAML configuration file strictly into a JSON tree the schema can validate, recording
 * where every key and value stands.
 *
 * <p>The file is only composed into SnakeYAML's node tree (no object construction, no tags; aliases
 * limited, nesting bounded). SnakeYAML's own duplicate-key check does not run in {@code compose()},
 * so every mapping is checked here: a key written twice anywhere is a problem, since the last one
 * would silently win (an appended {@code mode: report-only} would switch a role off). Merge keys
 * ({@code <<}) and non-text keys are refused too. Scalars are typed by what the schema expects at
 * their place ({@link Schema#scalar}), after {@code ${NAME}} has been replaced from the environment
 * when an environment is given, so numbers and booleans can come from variables.
 */
final class YamlDocument {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  private final String file;
  private final Schema schema;
  private final @Nullable UnaryOperator<@Nullable String> environment;
  private final Locations where;
  private final Problems problems;
  private final Set<Node> open = Collections.newSetFromMap(new IdentityHashMap<>());

  private YamlDocument(String file, Schema schema, @Nullable UnaryOperator<@Nullable String> environment, Locations where,
      Problems problems) {
    this.file = file;
    this.schema = schema;
    this.environment = environment;
    this.where = where;
    this.problems = problems;
  }

  /**
   * The file's content as a JSON object, or null (with the problem recorded) when it is not YAML
   * or not a mapping. Problems inside the mapping (duplicate keys, unset variables) are recorded
   * and the tree is still returned, so the schema reports what else is wrong.
   *
   * @param environment looks up {@code ${NAME}}; null: no expansion (role files)
   */
  static @Nullable ObjectNode read(String file, String text, Schema schema, @Nullable UnaryOperator<@Nullable String> environment,
      Locations where, Problems problems) {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(10);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(1024 * 1024);
    options.setNestingDepthLimit(30);
    options.setProcessComments(false);
    Node root;
    try {
      root = new Yaml(options).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark();
      problems.add(m == null ? Location.wholeFile(file) : new Location(file, m.getLine() + 1, m.getColumn() + 1, true), "",
          "not valid YAML: " + firstLine(e.getProblem()));
      return null;
    } catch (YAMLException e) {
      problems.add(Location.wholeFile(file), "", "not valid YAML: " + firstLine(e.getMessage()));
      return null;
    }
    if (root == null) {
      problems.add(Location.wholeFile(file), "", "empty file (expected: a YAML mapping of keys to values)");
      return null;
    }
    if (!(root instanceof MappingNode mapping)) {
      problems.add(Location.of(file, root), "", "expected a YAML mapping of keys to values");
      return null;
    }
    YamlDocument d = new YamlDocument(file, schema, environment, where, problems);
    where.value("", Location.of(file, root));
    d.open.add(mapping);
    return d.mapping(mapping, schema.root(), "", "");
  }

  private ObjectNode mapping(MappingNode node, @Nullable JsonNode nodeSchema, String pointer, String display) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Map<String, Node> seen = new HashMap<>();
    for (NodeTuple t : node.getValue()) {
      Node k = t.getKeyNode();
      if (!(k instanceof ScalarNode key)) {
        problems.add(Location.of(file, k), display, "keys must be plain text");
        continue;
      }
      String name = key.getValue();
      String childDisplay = Locations.displayChild(display, name);
      if (Tag.MERGE.equals(key.getTag())) {
        problems.add(Location.of(file, key), childDisplay, "merge keys (<<) are not supported (expected: each key written out)");
        continue;
      }
      Node first = seen.putIfAbsent(name, key);
      if (first != null) {
        problems.add(Location.of(file, key), childDisplay, "written twice (first at line " + (first.getStartMark().getLine() + 1)
            + "; the later value would silently replace the earlier one)");
        continue;
      }
      String childPointer = Locations.child(pointer, name);
      where.key(childPointer, Location.of(file, key));
      where.value(childPointer, Location.of(file, t.getValueNode()));
      out.set(name, value(t.getValueNode(), schema.member(nodeSchema, name), childPointer, childDisplay));
    }
    return out;
  }

  private JsonNode value(Node node, @Nullable JsonNode valueSchema, String pointer, String display) {
    if (!(node instanceof ScalarNode) && !open.add(node)) {
      problems.add(Location.of(file, node), display, "an alias that contains itself (expected: a finite value)");
      return JsonNodeFactory.instance.nullNode();
    }
    try {
      return collectionOrScalar(node, valueSchema, pointer, display);
    } finally {
      open.remove(node);
    }
  }

  private JsonNode collectionOrScalar(Node node, @Nullable JsonNode valueSchema, String pointer, String display) {
    if (node instanceof MappingNode m) {
      return mapping(m, valueSchema, pointer, display);
    }
    if (node instanceof SequenceNode seq) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      JsonNode itemSchema = schema.items(valueSchema);
      int i = 0;
      for (Node item : seq.getValue()) {
        String itemPointer = Locations.child(pointer, i);
        where.value(itemPointer, Location.of(file, item));
        out.add(value(item, itemSchema, itemPointer, display + "[" + i + "]"));
        i++;
      }
      return out;
    }
    ScalarNode s = (ScalarNode) node;
    boolean plain = s.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN;
    JsonNode typed = schema.scalar(expand(s, display), plain, valueSchema);
    if (typed.isArray()) {
      for (int i = 0; i < typed.size(); i++) {
        where.value(Locations.child(pointer, i), Location.of(file, s));
      }
    }
    return typed;
  }

  private String expand(ScalarNode s, String display) {
    String value = s.getValue();
    if (environment == null || value.indexOf("${") < 0) {
      return value;
    }
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = environment.apply(m.group(1));
      if (v == null) {
        problems.add(Location.of(file, s), display, "environment variable " + m.group(1)
            + " is not set (expected: set, since an unset variable is never read as empty)");
        v = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String firstLine(@Nullable String s) {
    if (s == null) {
      return "syntax error";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
