package org.fhirwall.auth;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a value sits in a token's claims, written as segments separated by {@code .}:
 *
 * <ul>
 *   <li>a plain segment names a member ({@code realm_access.roles}); {@code \.} is a dot inside a
 *       name and {@code \\} a backslash ({@code https://example\.org/roles});
 *   <li>{@code {client}} (also written {@code <client>}) names the member whose key is the token's
 *       authorised party ({@code azp}, else {@code client_id}):
 *       {@code resource_access.{client}.roles} reads the roles of the client the token was issued to;
 *   <li>{@code *} stands for every member of an object ({@code resource_access.*.roles} reads the
 *       roles of every client; use with care, names of different clients' roles may collide).
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
final class ClaimPath {

  private sealed interface Segment {}

  private record Name(String name) implements Segment {}

  private record Client() implements Segment {}

  private record Any() implements Segment {}

  private final String text;
  private final List<Segment> segments;

  private ClaimPath(String text, List<Segment> segments) {
    this.text = text;
    this.segments = List.copyOf(segments);
  }

  /** @throws IllegalArgumentException when the path is empty, has an empty segment or a dangling escape */
  static ClaimPath parse(String text) {
    List<Segment> segments = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean escaped = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '.' || text.charAt(i + 1) == '\\')) {
        current.append(text.charAt(++i));
        escaped = true;
      } else if (c == '\\') {
        throw new IllegalArgumentException("claim path: " + text + " (expected: '\\' only before '.' or '\\')");
      } else if (c == '.') {
        segments.add(segment(text, current.toString(), escaped));
        current.setLength(0);
        escaped = false;
      } else {
        current.append(c);
      }
    }
    segments.add(segment(text, current.toString(), escaped));
    return new ClaimPath(text, segments);
  }

  private static Segment segment(String text, String s, boolean escaped) {
    if (s.isEmpty()) {
      throw new IllegalArgumentException("claim path: '" + text + "' (expected: non-empty segments separated by '.')");
    }
    if (!escaped && (s.equals("{client}") || s.equals("<client>"))) {
      return new Client();
    }
    if (!escaped && s.equals("*")) {
      return new Any();
    }
    return new Name(s);
  }

  /** The nodes this path reaches in {@code claims}; {@code client} resolves {@code {client}}. */
  List<JsonNode> resolve(JsonNode claims, String client) {
    List<JsonNode> nodes = List.of(claims);
    for (Segment segment : segments) {
      List<JsonNode> next = new ArrayList<>();
      for (JsonNode node : nodes) {
        if (!node.isObject()) {
          continue;
        }
        if (segment instanceof Name n) {
          addIfPresent(next, node.get(n.name()));
        } else if (segment instanceof Client) {
          addIfPresent(next, node.get(client));
        } else {
          for (Map.Entry<String, JsonNode> member : node.properties()) {
            next.add(member.getValue());
          }
        }
      }
      nodes = next;
    }
    return nodes;
  }

  /** Every string this path reaches: a string value, or the string elements of an array. */
  List<String> strings(JsonNode claims, String client) {
    List<String> out = new ArrayList<>();
    for (JsonNode node : resolve(claims, client)) {
      if (node.isTextual()) {
        out.add(node.textValue());
      } else if (node.isArray()) {
        for (JsonNode element : node) {
          if (element.isTextual()) {
            out.add(element.textValue());
          }
        }
      }
    }
    return out;
  }

  private static void addIfPresent(List<JsonNode> out, JsonNode node) {
    if (node != null && !node.isNull() && !node.isMissingNode()) {
      out.add(node);
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
