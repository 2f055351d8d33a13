package org.fhirwall.respond;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.fhirwall.inspect.Inspection;
import org.jspecify.annotations.Nullable;

/**
 * A search page that holds as many matches as it was asked for always links to a next page. The
 * EPR links to one only when more records match than the page shows, and the patients of those
 * unseen matches are charged only once a page shows them: its link alone would tell, for free,
 * whether one more record matches (a search for a decoy's and a target's identifier with
 * {@code _count=1} shows the decoy and answers, by its {@code next} link, whether the target matches
 * a criterion). So a full page the EPR gave no next link gets fhirwall's own, which leads to an empty
 * page; whoever follows a link learns what it leads to, and is charged for what it shows.
 *
 * <p>Reads only the top level of the answer (and its entries' {@code search.mode}), streaming;
 * thread-safe; no I/O.
 */
final class FullPages {
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final byte[] NEXT_OPEN = "{\"relation\":\"next\",\"url\":".getBytes(StandardCharsets.US_ASCII);

  private FullPages() {}

  /**
   * Where fhirwall's next link goes: at byte {@code at}, at the end of the top-level {@code link}
   * array ({@code intoArray}, which is {@code emptyArray} or not: where HAPI FHIR writes its next
   * link, after self, first and previous; a last link is dropped) or as a new {@code link} member
   * right after the top-level object's opening brace.
   */
  record Insertion(int at, boolean intoArray, boolean emptyArray) {
    /** The bytes to insert for a next link to {@code url}. */
    byte[] bytes(String url) {
      byte[] quoted = JsonSplicer.quote(url);
      String open = intoArray ? (emptyArray ? "" : ",") : "\"link\":[";
      String close = intoArray ? "}" : "}],";
      byte[] o = open.getBytes(StandardCharsets.US_ASCII);
      byte[] c = close.getBytes(StandardCharsets.US_ASCII);
      byte[] out = new byte[o.length + NEXT_OPEN.length + quoted.length + c.length];
      System.arraycopy(o, 0, out, 0, o.length);
      System.arraycopy(NEXT_OPEN, 0, out, o.length, NEXT_OPEN.length);
      System.arraycopy(quoted, 0, out, o.length + NEXT_OPEN.length, quoted.length);
      System.arraycopy(c, 0, out, o.length + NEXT_OPEN.length + quoted.length, c.length);
      return out;
    }
  }

  /**
   * Where a next link must be added to this answer: a searchset (the answer of a search or of a
   * followed paging link, status 2xx) with at least {@link Plan#pageSize()} entries of
   * {@code search.mode} {@code match} (an entry that names no mode counts as one) and no next link of
   * its own; null otherwise, and for a body it cannot read (the inspector read it already).
   */
  static @Nullable Insertion of(Plan plan, int status, Inspection.Read read) {
    int size = plan.pageSize();
    if (size <= 0 || status / 100 != 2 || plan.countOnly() || plan.answersABundle() || !"Bundle".equals(read.rootType())
        || read.resourceCount() - 1 < size) { // fewer resources than the page holds: cannot be full
      return null;
    }
    try (JsonParser p = FACTORY.createParser(read.json())) {
      return top(p, size);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static @Nullable Insertion top(JsonParser p, int size) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      return null;
    }
    int objectAt = (int) p.currentTokenLocation().getByteOffset() + 1;
    boolean searchset = false;
    int matches = 0;
    int linkAt = -1;
    boolean emptyLinks = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      switch (name) {
        case "type" -> searchset = value == JsonToken.VALUE_STRING && "searchset".equals(p.getText());
        case "link" -> {
          if (value != JsonToken.START_ARRAY) {
            return null;
          }
          emptyLinks = true;
          JsonToken t;
          while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
            emptyLinks = false;
            if ("next".equals(relation(p))) {
              return null; // the EPR's own: rewritten like every paging link
            }
          }
          if (t != JsonToken.END_ARRAY) {
            return null; // not FHIR links: nothing to add to
          }
          linkAt = (int) p.currentTokenLocation().getByteOffset();
        }
        case "entry" -> {
          if (value != JsonToken.START_ARRAY) {
            return null;
          }
          while (p.nextToken() == JsonToken.START_OBJECT) {
            if (isMatch(p)) {
              matches++;
            }
          }
        }
        default -> p.skipChildren();
      }
    }
    if (!searchset || matches < size) {
      return null;
    }
    return linkAt >= 0 ? new Insertion(linkAt, true, emptyLinks) : new Insertion(objectAt, false, false);
  }

  /** The {@code relation} of the link object the parser is at the start of; leaves it at its end. */
  private static @Nullable String relation(JsonParser p) throws IOException {
    String relation = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("relation") && v == JsonToken.VALUE_STRING) {
        relation = p.getText();
      } else {
        p.skipChildren();
      }
    }
    return relation;
  }

  /** Whether the entry the parser is at the start of is a match (no {@code search.mode} counts as one). */
  private static boolean isMatch(JsonParser p) throws IOException {
    String mode = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("search") && v == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken m = p.nextToken();
          if (field.equals("mode") && m == JsonToken.VALUE_STRING) {
            mode = p.getText();
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
    return mode == null || mode.equals("match");
  }
}
