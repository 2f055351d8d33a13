package org.fhirwall.inspect;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The entries of a batch or transaction response that found nothing ({@code entry.response.status}
 * 404 or 410): each is an existence probe, counted by the enumeration watch as if it had been a
 * read sent alone. Stateless.
 */
public final class BatchOutcomes {
  private static final JsonFactory JSON = new JsonFactory();

  private BatchOutcomes() {}

  /**
   * How many top-level entries of {@code json} (a Bundle) answered 404, 410 or 412 (a conditional write whose criteria
   * matched several records: it tells of them without showing them); 0 when it is not a Bundle.
   */
  public static int notFound(byte[] json) {
    int found = 0;
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return 0;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("entry") && value == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.START_OBJECT) {
            found += entryNotFound(p) ? 1 : 0;
          }
        } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      return found;
    }
    return found;
  }

  /** Reads one entry object (the parser is on its START_OBJECT) through its END_OBJECT. */
  private static boolean entryNotFound(JsonParser p) throws IOException {
    boolean notFound = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("response") && value == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken v = p.nextToken();
          if (field.equals("status") && v == JsonToken.VALUE_STRING) {
            String status = p.getText().trim();
            notFound = status.startsWith("404") || status.startsWith("410") || status.startsWith("412");
          } else if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
            p.skipChildren();
          }
        }
      } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
        p.skipChildren();
      }
    }
    return notFound;
  }
}
