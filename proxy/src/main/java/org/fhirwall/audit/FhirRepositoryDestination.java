package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Audit records to a FHIR audit repository (IHE BALP's Audit Record Repository, e.g. a HAPI FHIR
 * server): each batch of the writer is one {@code batch} Bundle POSTed to the repository's base,
 * one {@code POST AuditEvent} entry per record. An answer other than 2xx, or none within
 * {@code timeout}, fails the whole batch (retried by the writer); an entry the repository refuses
 * in a 2xx batch-response (a record it will never take) is logged at error level and counted in
 * {@link #refused()}, never retried forever.
 */
final class FhirRepositoryDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(FhirRepositoryDestination.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] ENTRY_HEAD = "{\"resource\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ENTRY_TAIL = ",\"request\":{\"method\":\"POST\",\"url\":\"AuditEvent\"}}"
      .getBytes(StandardCharsets.US_ASCII);

  private final URI base;
  private final @Nullable String bearer;
  private final Duration timeout;
  private final HttpClient http;
  private long refused;

  FhirRepositoryDestination(URI base, @Nullable String bearer, Duration timeout) {
    this.base = requireNonNull(base, "base");
    this.bearer = bearer;
    this.timeout = requireNonNull(timeout, "timeout");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public String name() {
    return "fhir-repository";
  }

  long refused() {
    return refused;
  }

  @Override
  public void write(List<byte[]> lines, Instant now) throws IOException {
    if (lines.isEmpty()) {
      return;
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream(lines.size() * 1500 + 64);
    body.writeBytes("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[".getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < lines.size(); i++) {
      byte[] line = lines.get(i);
      if (i > 0) {
        body.write(',');
      }
      body.writeBytes(ENTRY_HEAD);
      body.write(line, 0, line.length - 1);
      body.writeBytes(ENTRY_TAIL);
    }
    body.writeBytes("]}".getBytes(StandardCharsets.US_ASCII));
    HttpRequest.Builder req = HttpRequest.newBuilder(base).timeout(timeout)
        .header("Content-Type", "application/fhir+json").header("Accept", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
    if (bearer != null) {
      req.header("Authorization", "Bearer " + bearer);
    }
    HttpResponse<byte[]> r;
    try {
      r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (r.statusCode() / 100 != 2) {
      throw new IOException(base + " answered " + r.statusCode() + " to a batch of " + lines.size() + " AuditEvents");
    }
    List<String> statuses = statuses(r.body());
    int bad = 0;
    for (String s : statuses) {
      if (!s.startsWith("2")) {
        bad++;
      }
    }
    if (statuses.size() != lines.size() || bad > 0) {
      int lost = statuses.size() != lines.size() ? lines.size() : bad;
      refused += lost;
      LOG.error("FHIR audit repository {} refused {} of {} AuditEvents in a batch (statuses {})", base, lost, lines.size(),
          statuses.size() > 20 ? statuses.subList(0, 20) + "..." : statuses);
    }
  }

  /** The {@code response.status} of each entry of a batch-response Bundle. */
  static List<String> statuses(byte[] bundle) throws IOException {
    List<String> out = new ArrayList<>();
    try (JsonParser p = JSON.createParser(bundle)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("the repository's answer is not a JSON Bundle");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        if (field.equals("entry") && t == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.START_OBJECT) {
            String status = "";
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String f = p.currentName();
              JsonToken v = p.nextToken();
              if (f.equals("response") && v == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                  String rf = p.currentName();
                  p.nextToken();
                  if (rf.equals("status")) {
                    status = p.getText();
                  } else {
                    p.skipChildren();
                  }
                }
              } else {
                p.skipChildren();
              }
            }
            out.add(status);
          }
        } else {
          p.skipChildren();
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    // nothing held open: each batch is one request
  }
}
