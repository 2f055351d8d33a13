package org.fhirwall.respond;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.fhirwall.inspect.Inspection;
import org.jspecify.annotations.Nullable;

/**
 * The edits of a Bundle's entries that bound an answer to what the role may see (every patient in
 * it was charged before; these only decide what the client is shown):
 *
 * <ul>
 *   <li>entries whose resource is of a type the role may not read, or the app's SMART scopes do not
 *       grant, are removed ({@code $everything},
 *       {@code _include}, history); in a batch or transaction response the entry stays (its
 *       position answers a request entry) without its resource; nested Bundles are edited alike;
 *   <li>a count fhirwall resolved by fetching the matches is reduced to {@code total};
 *   <li>a search {@code total} that could tell of matches not shown is withheld until the last page,
 *       also the total of each search inside a batch or transaction response whose pages go on.
 * </ul>
 */
final class EntryEdits {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFactory FACTORY = JSON.getFactory();
  /** Containers and answers about the request itself: always shown. */
  private static final Set<String> ALWAYS = Set.of("Bundle", "OperationOutcome");

  private EntryEdits() {}

  /**
   * Whether the answer holds a resource of a type the client may not be shown (the role's types, and
   * the app's SMART scopes): anywhere; the edit looks at entries.
   */
  static boolean hasForeignTypes(Inspection.Read read, Plan plan) {
    for (String t : read.resourceTypes()) {
      if (!ALWAYS.contains(t) && !plan.shows(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The cut that is all {@link #apply} would do to this answer (the total withheld), so that it can
   * go with the link rewriting's edits; null when there is none or apply does more.
   */
  static JsonSplicer.@Nullable Cut totalOnly(byte[] json, Plan plan, Inspection.Read read, boolean morePages) {
    boolean onlyTotal = !hasForeignTypes(read, plan) && !plan.countOnly() && !withholdsNestedTotals(plan, morePages)
        && !plan.entriesMinimal();
    return onlyTotal && !plan.releaseTotal() && morePages ? topLevelTotal(json) : null;
  }

  /**
   * Whether the answer is a batch or transaction response with a search whose pages go on: its total
   * tells of matches not shown (a bundle's entries are never pinned to named patients as a whole).
   */
  static boolean withholdsNestedTotals(Plan plan, boolean morePages) {
    return morePages && plan.answersABundle();
  }

  /** Whether {@link #apply} could change this answer at all (when not, it gives the body back as it is). */
  static boolean mayChange(Plan plan, Inspection.Read read, boolean morePages) {
    return hasForeignTypes(read, plan) || plan.countOnly() || withholdsNestedTotals(plan, morePages) || plan.entriesMinimal()
        || !plan.releaseTotal() && morePages;
  }

  static byte[] apply(byte[] json, Plan plan, Inspection.Read read, boolean morePages) {
    boolean foreign = hasForeignTypes(read, plan);
    boolean stripTotal = !plan.releaseTotal() && morePages;
    boolean nestedTotals = withholdsNestedTotals(plan, morePages);
    boolean minimal = plan.entriesMinimal();
    if (!foreign && !plan.countOnly() && !nestedTotals && !minimal) {
      return stripTotal ? withoutTopLevelTotal(json) : json;
    }
    try {
      JsonNode root = JSON.readTree(json);
      if (!(root instanceof ObjectNode bundle) || !"Bundle".equals(bundle.path("resourceType").asText())) {
        return json;
      }
      if (plan.countOnly()) {
        return JSON.writeValueAsBytes(countOf(bundle));
      }
      if (foreign) {
        removeForeign(bundle, plan);
      }
      if (nestedTotals) {
        withoutPagedTotals(bundle);
      }
      if (minimal) {
        withoutWrittenResources(bundle, plan.writeEntries());
      }
      if (stripTotal) {
        bundle.remove("total");
      }
      return JSON.writeValueAsBytes(bundle);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code {"resourceType":"Bundle","type":"searchset","total":N}}: the EPR's total, else the matches counted. */
  private static ObjectNode countOf(ObjectNode bundle) {
    int matches = 0;
    for (JsonNode e : bundle.path("entry")) {
      if (!"include".equals(e.path("search").path("mode").asText())) {
        matches++;
      }
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("resourceType", "Bundle");
    out.put("type", "searchset");
    out.put("total", bundle.path("total").isInt() ? bundle.get("total").asInt() : matches);
    return out;
  }

  private static void removeForeign(ObjectNode bundle, Plan plan) {
    JsonNode entries = bundle.get("entry");
    if (!(entries instanceof ArrayNode list)) {
      return;
    }
    String type = bundle.path("type").asText();
    boolean positional = type.equals("batch-response") || type.equals("transaction-response");
    Iterator<JsonNode> it = list.elements();
    while (it.hasNext()) {
      JsonNode entry = it.next();
      JsonNode resource = entry.get("resource");
      if (!(resource instanceof ObjectNode r) || !(entry instanceof ObjectNode e)) {
        continue;
      }
      String rt = r.path("resourceType").asText();
      if (rt.equals("Bundle")) {
        removeForeign(r, plan);
      } else if (!ALWAYS.contains(rt) && !plan.shows(rt)) {
        if (positional) {
          e.remove("resource");
        } else {
          it.remove();
        }
      }
    }
  }

  /**
   * Removes the resource of each entry at {@code positions} (a batch's or transaction's writes, under
   * {@code return=minimal}), keeping its {@code response} (status, location, etag).
   */
  private static void withoutWrittenResources(ObjectNode bundle, List<Integer> positions) {
    if (!(bundle.get("entry") instanceof ArrayNode list)) {
      return;
    }
    for (int i : positions) {
      if (i < list.size() && list.get(i) instanceof ObjectNode e) {
        e.remove("resource");
      }
    }
  }

  /** Removes the {@code total} of every Bundle in the entries (nested ones too) that links to a next page. */
  private static void withoutPagedTotals(ObjectNode bundle) {
    for (JsonNode entry : bundle.path("entry")) {
      if (entry.get("resource") instanceof ObjectNode r && "Bundle".equals(r.path("resourceType").asText())) {
        for (JsonNode link : r.path("link")) {
          if ("next".equals(link.path("relation").asText())) {
            r.remove("total");
            break;
          }
        }
        withoutPagedTotals(r);
      }
    }
  }

  /**
   * The body without the top-level {@code "total"} member, the rest byte for byte. The body has
   * been read whole by the inspector before (well-formed JSON): the top level is walked over its
   * bytes, each member's value skipped by brackets and strings; a name with an escape in it, or
   * anything unexpected, takes {@link #withoutTopLevelTotalParsed} (Jackson's parser) instead.
   */
  static byte[] withoutTopLevelTotal(byte[] json) {
    JsonSplicer.Cut cut = topLevelTotal(json);
    return cut == null ? json : JsonSplicer.splice(json, java.util.List.of(), cut);
  }

  /**
   * The span {@link #withoutTopLevelTotal} removes (the top-level {@code "total"} member and the
   * comma that joins it), null when there is none: so that the cut can travel with the link
   * rewriting's replacements and the body is copied once.
   */
  static JsonSplicer.@Nullable Cut topLevelTotal(byte[] json) {
    int n = json.length;
    int p = skipBlank(json, 0);
    if (p >= n || json[p] != '{') {
      return null;
    }
    int previousEnd = p + 1;
    p = skipBlank(json, previousEnd);
    if (p < n && json[p] == '}') {
      return null;
    }
    while (p < n && json[p] == '"') {
      int nameStart = p;
      int nameEnd = stringEnd(json, p);
      if (nameEnd < 0) {
        return topLevelTotalParsed(json); // an escaped name: let the parser decode it
      }
      p = skipBlank(json, nameEnd);
      if (p >= n || json[p] != ':') {
        break;
      }
      int valueEnd = valueEnd(json, skipBlank(json, p + 1));
      if (valueEnd < 0) {
        break;
      }
      if (nameEnd - nameStart == TOTAL.length + 2 && java.util.Arrays.equals(json, nameStart + 1, nameEnd - 1, TOTAL, 0, TOTAL.length)) {
        return span(json, previousEnd, nameStart, valueEnd);
      }
      previousEnd = valueEnd;
      p = skipBlank(json, valueEnd);
      if (p < n && json[p] == '}') {
        return null;
      }
      if (p >= n || json[p] != ',') {
        break;
      }
      p = skipBlank(json, p + 1);
    }
    return topLevelTotalParsed(json);
  }

  private static final byte[] TOTAL = "total".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static int skipBlank(byte[] json, int p) {
    while (p < json.length && (json[p] == ' ' || json[p] == '\n' || json[p] == '\r' || json[p] == '\t')) {
      p++;
    }
    return p;
  }

  /** The index after the string starting at {@code p} (a quote), or -1 when it holds an escape or does not end. */
  private static int stringEnd(byte[] json, int p) {
    for (int i = p + 1; i < json.length; i++) {
      if (json[i] == '"') {
        return i + 1;
      }
      if (json[i] == '\\') {
        return -1;
      }
    }
    return -1;
  }

  /** The index after the value starting at {@code p}, or -1 when it does not end. */
  private static int valueEnd(byte[] json, int p) {
    int n = json.length;
    if (p >= n) {
      return -1;
    }
    byte first = json[p];
    if (first != '{' && first != '[' && first != '"') {
      int i = p;
      while (i < n && json[i] != ',' && json[i] != '}' && json[i] != ']' && json[i] != ' ' && json[i] != '\n'
          && json[i] != '\r' && json[i] != '\t') {
        i++;
      }
      return i > p ? i : -1;
    }
    int depth = 0;
    for (int i = p; i < n; i++) {
      byte b = json[i];
      if (b == '"') {
        i++;
        while (i < n && json[i] != '"') {
          if (json[i] == '\\') {
            i++;
          }
          i++;
        }
        if (i >= n) {
          return -1;
        }
        if (depth == 0) {
          return i + 1;
        }
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        if (--depth == 0) {
          return i + 1;
        }
      }
    }
    return -1;
  }

  /** {@link #withoutTopLevelTotal} by Jackson's parser alone: the test's reference. */
  static byte[] withoutTopLevelTotalParsed(byte[] json) {
    JsonSplicer.Cut cut = topLevelTotalParsed(json);
    return cut == null ? json : JsonSplicer.splice(json, java.util.List.of(), cut);
  }

  /** {@link #topLevelTotal} by Jackson's parser: the way for names with escapes. */
  private static JsonSplicer.@Nullable Cut topLevelTotalParsed(byte[] json) {
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      long previousEnd = p.currentLocation().getByteOffset();
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        boolean total = "total".equals(p.currentName());
        long nameStart = p.currentTokenLocation().getByteOffset();
        JsonToken value = p.nextToken();
        if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
          p.skipChildren();
        } else {
          p.finishToken(); // a string is read lazily: without this the location is inside it
        }
        long valueEnd = p.currentLocation().getByteOffset();
        if (total) {
          return span(json, (int) previousEnd, (int) nameStart, (int) valueEnd);
        }
        previousEnd = valueEnd;
      }
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The member spanning [nameStart, valueEnd) with the comma that joins it to a neighbour. */
  private static JsonSplicer.Cut span(byte[] json, int previousEnd, int nameStart, int valueEnd) {
    int after = valueEnd;
    while (after < json.length && Character.isWhitespace(json[after])) {
      after++;
    }
    int from;
    int to;
    if (after < json.length && json[after] == ',') {
      from = nameStart;
      to = after + 1;
    } else {
      int comma = nameStart - 1;
      while (comma > previousEnd && json[comma] != ',') {
        comma--;
      }
      from = json[comma] == ',' ? comma : nameStart;
      to = valueEnd;
    }
    return new JsonSplicer.Cut(from, to);
  }
}
