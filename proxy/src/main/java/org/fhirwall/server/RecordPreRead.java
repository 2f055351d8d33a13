package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.fhirwall.fhir.ResourceId;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.fhirwall.policy.LaunchContextRecords.Found;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;

/**
 * fhirwall's own read of the record an update or delete by id replaces, before it is forwarded under a launch context
 * ({@link org.fhirwall.policy.LaunchContextRecords}): a GET of {@code Type/id} through the same pooled client, breaker
 * and bulkhead as the client's request, on the client connection's loop, with fhirwall's credentials and the request's
 * id only (no client header is copied). Its answer is inspected like any (the patients the inspector names are the
 * ones it would charge) and then dropped: never shown to the client, never charged. Nothing here blocks: the answer is
 * inspected on the loop when small, on the heavy-work pool when not. Every failure is a {@link Found.Unknown}
 * (the policy refuses it). One instance per request, confined to its loop.
 */
final class RecordPreRead {
  private static final JsonFactory JSON = new JsonFactory();

  private final Upstream upstream;
  private final EventLoop loop;
  private final ResponseInspector inspector;
  private final Executor heavyWork;
  private final int inlineBytes;

  RecordPreRead(Upstream upstream, EventLoop loop, ResponseInspector inspector, Executor heavyWork, int inlineBytes) {
    this.upstream = requireNonNull(upstream, "upstream");
    this.loop = requireNonNull(loop, "loop");
    this.inspector = requireNonNull(inspector, "inspector");
    this.heavyWork = requireNonNull(heavyWork, "heavyWork");
    this.inlineBytes = inlineBytes;
  }

  /** What the EPR holds at {@code record}; completes on the loop or the heavy-work pool, never exceptionally. */
  CompletionStage<Found> read(ResourceId record, String requestId) {
    CompletableFuture<Found> found = new CompletableFuture<>();
    UpstreamRequest get = new UpstreamRequest("GET", record.type() + "/" + record.id(),
        List.of(Map.entry("X-Request-Id", requestId)), new byte[0]);
    upstream.send(loop, get).addListener(f -> {
      UpstreamResult r = (UpstreamResult) f.getNow();
      if (r instanceof UpstreamResult.Response response) {
        answered(EprAnswer.of(response), found);
      } else if (r instanceof UpstreamResult.Failure failure) {
        found.complete(new Found.Unknown("EPR " + failure.kind().name().toLowerCase(java.util.Locale.ROOT)));
      } else {
        found.complete(new Found.Unknown("no answer from the EPR"));
      }
    });
    return found;
  }

  private void answered(EprAnswer a, CompletableFuture<Found> found) {
    if (a.status() == 404 || a.status() == 410) {
      found.complete(new Found.Absent(a.status()));
      return;
    }
    if (a.status() != 200) {
      found.complete(new Found.Unknown("EPR status " + a.status()));
      return;
    }
    if (a.body().length <= inlineBytes) {
      found.complete(inspect(a));
      return;
    }
    try {
      heavyWork.execute(() -> found.complete(inspect(a)));
    } catch (RejectedExecutionException e) {
      found.complete(new Found.Unknown("fhirwall busy"));
    }
  }

  private Found inspect(EprAnswer a) {
    try {
      Inspection seen = inspector.inspect(new ResponseBody(a.body(), a.contentType(), a.contentEncoding()));
      if (!(seen instanceof Inspection.Read read)) {
        return new Found.Unknown("unreadable: " + ((Inspection.Unreadable) seen).reason());
      }
      String etag = a.header("ETag");
      String version = etag != null ? org.fhirwall.policy.LaunchContextRecords.versionOf(etag) : metaVersionId(read.json());
      return new Found.Record(read.rootType(), read.patients(), version == null || version.isEmpty() ? null : version);
    } catch (Throwable e) { // an Error too (a stack overflow): unknown, so the write is refused, never left waiting
      return new Found.Unknown("unreadable: " + e.getClass().getSimpleName());
    }
  }

  /** The top-level resource's {@code meta.versionId}, null when absent or not a string. */
  static @Nullable String metaVersionId(byte[] json) {
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (!"meta".equals(name) || value != JsonToken.START_OBJECT) {
          p.skipChildren();
          continue;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken v = p.nextToken();
          if ("versionId".equals(field)) {
            return v == JsonToken.VALUE_STRING ? p.getText() : null;
          }
          p.skipChildren();
        }
        return null;
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }
}
