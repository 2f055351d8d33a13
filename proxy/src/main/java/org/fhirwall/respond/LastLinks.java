package org.fhirwall.respond;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.fhirwall.inspect.UrlOccurrence;

/**
 * A Bundle's {@code last} link tells how many pages a search has, so how many records match, most of
 * them on pages not shown and not charged: fhirwall drops it, at every depth. (A {@code previous}
 * link leads to a page already shown; {@code first} to the search's own first page.) Thread-safe.
 */
final class LastLinks {
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final byte[] NOTHING = new byte[0];

  private LastLinks() {}

  /** Whether an answer whose URLs are {@code urls} has a {@code last} link anywhere. */
  static boolean any(List<UrlOccurrence> urls) {
    for (UrlOccurrence u : urls) {
      if ("last".equals(u.linkRelation())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The edits that remove every {@code Bundle.link} whose relation is {@code last} (with the comma
   * that separated it from a neighbour), as swaps to nothing; none when the body cannot be read (the
   * inspector read it already, so it can).
   */
  static List<JsonSplicer.Swap> cuts(byte[] json) {
    List<JsonSplicer.Swap> out = new ArrayList<>();
    try (JsonParser p = FACTORY.createParser(json)) {
      walk(p, p.nextToken(), out, json);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out;
  }

  private static void walk(JsonParser p, JsonToken at, List<JsonSplicer.Swap> out, byte[] json) throws IOException {
    if (at == JsonToken.START_OBJECT) {
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("link") && v == JsonToken.START_ARRAY) {
          links(p, out, json);
        } else {
          walk(p, v, out, json);
        }
      }
    } else if (at == JsonToken.START_ARRAY) {
      for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
        walk(p, t, out, json);
      }
    }
  }

  /** The elements of a {@code link} array, the parser at its start; leaves it at its end. */
  private static void links(JsonParser p, List<JsonSplicer.Swap> out, byte[] json) throws IOException {
    List<int[]> spans = new ArrayList<>(); // [start, end, last?]
    boolean objects = true;
    for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
      int start = (int) p.currentTokenLocation().getByteOffset();
      boolean last = false;
      if (t == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          JsonToken v = p.nextToken();
          if (name.equals("relation") && v == JsonToken.VALUE_STRING) {
            last = "last".equals(p.getText());
          } else {
            p.skipChildren();
          }
        }
      } else {
        objects = false; // not a FHIR link: no offsets to trust, nothing removed here
        p.skipChildren();
      }
      int end = (int) p.currentLocation().getByteOffset();
      spans.add(new int[] {start, end, last ? 1 : 0});
    }
    int n = objects ? spans.size() : 0;
    int trailing = n; // where the run of removed elements that ends the array starts
    while (trailing > 0 && spans.get(trailing - 1)[2] == 1) {
      trailing--;
    }
    for (int i = 0; i < trailing; i++) {
      if (spans.get(i)[2] == 1) { // a removed element before a kept one takes the separator after it
        out.add(new JsonSplicer.Swap(spans.get(i)[0], spans.get(i + 1)[0], NOTHING));
      }
    }
    if (trailing < n) { // the removed run at the end takes the separator before it
      int from = trailing == 0 ? spans.get(0)[0] : spans.get(trailing - 1)[1];
      out.add(new JsonSplicer.Swap(from, spans.get(n - 1)[1], NOTHING));
    }
  }
}
