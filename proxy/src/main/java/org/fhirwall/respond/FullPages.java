package org.fhirwall.respond;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
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
 * <p>The searches inside a batch or transaction answer alike, each with its own entry's
 * {@code _count}. Reads only the Bundles' own members (and their entries' {@code search.mode}),
 * streaming; thread-safe; no I/O.
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
   * A searchset in an answer: the top-level one, or one answering a search entry of a batch or
   * transaction; bytes [{@code from}, {@code to}) of the body.
   *
   * @param pageSize how many matches its page was asked to hold (carried in its paging links)
   * @param next where fhirwall's own next link goes, null when the page is not full or has the EPR's
   * @param nested it answers an entry of a batch or transaction (so it is that search's first page)
   */
  record Searchset(int from, int to, int pageSize, @Nullable Insertion next, boolean nested) {}
  // (a top-level searchset that links to a next page itself may end at its link array: its extent is only read for nested ones)

  /**
   * The searchsets of an answer (status 2xx) whose page size is known: the answer of a search or of
   * a followed paging link ({@link Plan#pageSize()}), or the searches of a batch or transaction
   * answer (each entry's {@code _count}, answered in the same position). Each says where a next link
   * must be added: a searchset with at least its page size of entries of {@code search.mode}
   * {@code match} (an entry that names no mode counts as one) and no next link of its own. Empty for
   * a body it cannot read (the inspector read it already).
   */
  static List<Searchset> of(Plan plan, int status, Inspection.Read read) {
    if (status / 100 != 2 || plan.countOnly() || !"Bundle".equals(read.rootType())) {
      return List.of();
    }
    try (JsonParser p = FACTORY.createParser(read.json())) {
      if (plan.answersABundle()) {
        int[] sizes = entrySizes(plan);
        return sizes.length == 0 ? List.of() : nested(p, sizes);
      }
      int size = plan.pageSize();
      if (size <= 0 || read.resourceCount() - 1 < size) { // fewer resources than the page holds: cannot be full
        return List.of();
      }
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return List.of();
      }
      return List.of(searchset(p, size, false));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  /**
   * Whether the top-level searchset of {@code read} is a full page of {@code size}: it links to a
   * next page, or holds at least {@code size} entries of {@code search.mode} {@code match}. True too
   * for a body that is no searchset this can read (who cannot tell, assumes the page full).
   */
  static boolean fills(Inspection.Read read, int size) {
    if (read.hasNextPage() || !"Bundle".equals(read.rootType())) {
      return true;
    }
    if (read.resourceCount() - 1 < size) { // fewer resources than the page holds: cannot be full
      return false;
    }
    try (JsonParser p = FACTORY.createParser(read.json())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return true;
      }
      return counted(p, size);
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  /** Whether the Bundle object the parser is at the start of is not a readable searchset (or history) of fewer than {@code size} matches. */
  private static boolean counted(JsonParser p, int size) throws IOException {
    boolean searchset = false;
    int matches = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("type")) {
        // a history page (a count over history) is counted alike: its entries name no mode
        searchset = value == JsonToken.VALUE_STRING && ("searchset".equals(p.getText()) || "history".equals(p.getText()));
      } else if (name.equals("entry")) {
        if (value != JsonToken.START_ARRAY) {
          return true;
        }
        for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
          if (t != JsonToken.START_OBJECT) {
            return true;
          }
          if (isMatch(p)) {
            matches++;
          }
        }
      } else {
        p.skipChildren();
      }
    }
    return !searchset || matches >= size;
  }

  /** Whether fhirwall adds a next link to any of {@code pages}. */
  static boolean addsNext(List<Searchset> pages) {
    for (Searchset s : pages) {
      if (s.next() != null) {
        return true;
      }
    }
    return false;
  }

  /** Whether the plan answers a batch or transaction with a search among its entries (its answer may get next links). */
  static boolean hasSearches(Plan plan) {
    return plan.answersABundle() && entrySizes(plan).length > 0;
  }

  /** The page size of each entry of a batch or transaction, by position (0: not a search); empty when none is one. */
  private static int[] entrySizes(Plan plan) {
    FhirRequest r = plan.upstreamRequest();
    if (r == null) {
      return new int[0];
    }
    int[] sizes = new int[r.entries().size()];
    boolean any = false;
    for (int i = 0; i < sizes.length; i++) {
      FhirRequest e = r.entries().get(i).request();
      sizes[i] = e.interaction() == Interaction.PAGE ? 0 : Plan.pageSize(e);
      any |= sizes[i] > 0;
    }
    return any ? sizes : new int[0];
  }

  /** The searchsets answering the entries of a batch or transaction response. */
  private static List<Searchset> nested(JsonParser p, int[] sizes) throws IOException {
    List<Searchset> out = new ArrayList<>();
    if (p.nextToken() != JsonToken.START_OBJECT) {
      return out;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (!name.equals("entry") || v != JsonToken.START_ARRAY) {
        p.skipChildren();
        continue;
      }
      int i = 0;
      for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; i++) {
        if (t != JsonToken.START_OBJECT) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken r = p.nextToken();
          if (field.equals("resource") && r == JsonToken.START_OBJECT && i < sizes.length && sizes[i] > 0) {
            out.add(searchset(p, sizes[i], true));
          } else {
            p.skipChildren();
          }
        }
      }
    }
    return out;
  }

  /** The Bundle object the parser is at the start of, read to its end. */
  private static Searchset searchset(JsonParser p, int size, boolean nested) throws IOException {
    int from = (int) p.currentTokenLocation().getByteOffset();
    int objectAt = from + 1;
    boolean searchset = false;
    boolean hasNext = false;
    boolean readable = true;
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
            readable = false;
            p.skipChildren();
            continue;
          }
          emptyLinks = true;
          for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
            emptyLinks = false;
            if (t == JsonToken.START_OBJECT) {
              hasNext |= "next".equals(relation(p)); // the EPR's own: rewritten like every paging link
            } else {
              readable = false; // not FHIR links: nothing to add to
              p.skipChildren();
            }
          }
          linkAt = (int) p.currentTokenLocation().getByteOffset();
          if (hasNext && readable && !nested) {
            // the answer's own page links to a next one: nothing to add, and its entries need not be read (where HAPI
            // FHIR writes the link array, before the entries, this spares a pass over the whole page)
            return new Searchset(from, linkAt, size, null, false);
          }
        }
        case "entry" -> {
          if (value != JsonToken.START_ARRAY) {
            readable = false;
            p.skipChildren();
            continue;
          }
          for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
            if (t == JsonToken.START_OBJECT && isMatch(p)) {
              matches++;
            } else if (t != JsonToken.START_OBJECT) {
              p.skipChildren();
            }
          }
        }
        default -> p.skipChildren();
      }
    }
    int to = (int) p.currentLocation().getByteOffset();
    Insertion next = null;
    if (searchset && readable && !hasNext && matches >= size) {
      next = linkAt >= 0 ? new Insertion(linkAt, true, emptyLinks) : new Insertion(objectAt, false, false);
    }
    return new Searchset(from, to, size, next, nested);
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
