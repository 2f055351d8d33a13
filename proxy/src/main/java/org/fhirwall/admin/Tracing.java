package org.fhirwall.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.upstream.CallObserver;
import org.fhirwall.upstream.Upstream;
import org.fhirwall.upstream.UpstreamRequest;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenTelemetry traces, when an OTLP endpoint is configured (off by default): the client's W3C
 * {@code traceparent} is continued with one span per request (server kind, from its audit record:
 * the interaction, outcome, rule and status, never patient data or who asked) and one per EPR call
 * (client kind), and the EPR receives the EPR span's {@code traceparent}. The request's span id is
 * the first 64 bits of its request id ({@code X-Request-Id}, 128 random bits); a request without a
 * trace starts one whose id is the request id, so a trace and an audit record lead to each other.
 *
 * <p>Spans are sent as OTLP/HTTP JSON, batched, from a thread of their own; a full queue drops spans
 * (counted, {@link #dropped()}), never a request. Thread-safe.
 */
public final class Tracing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
  private static final int BATCH = 256;

  private record SpanData(String traceId, String spanId, @Nullable String parentSpanId, String name, int kind,
      long startNanos, long endNanos, Map<String, Object> attributes, boolean error) {}

  private final URI endpoint;
  private final String serviceName;
  private final HttpClient http;
  private final BlockingQueue<SpanData> queue = new ArrayBlockingQueue<>(16_384);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread sender;
  private volatile boolean closed;

  public Tracing(URI endpoint, String serviceName, HttpClient http) {
    this.endpoint = requireNonNull(endpoint, "endpoint");
    this.serviceName = requireNonNull(serviceName, "serviceName");
    this.http = requireNonNull(http, "http");
    this.sender = new Thread(this::send, "fhirwall-traces");
    this.sender.setDaemon(true);
    this.sender.start();
  }

  /** Spans not sent because the queue was full or the collector failed. */
  public long dropped() {
    return dropped.get();
  }

  /** The audit sink that also turns each request's record into its span. */
  public AuditSink requests(AuditSink delegate) {
    return new AuditSink() {
      @Override
      public void write(AuditRecord record) {
        if (record.kind() == AuditRecord.Kind.DECISION && record.requestId().length() == 32) {
          span(record);
        }
        delegate.write(record);
      }

      @Override
      public long dropped() {
        return delegate.dropped();
      }

      @Override
      public boolean accepting() {
        return delegate.accepting();
      }

      /** Closes the audit sink, then sends the spans still queued. */
      @Override
      public void close() {
        delegate.close();
        Tracing.this.close();
      }
    };
  }

  /** The EPR, with a span around every call and that span's {@code traceparent} sent to it. */
  public Upstream calls(Upstream delegate) {
    return CallObserver.observed(delegate, this::call);
  }

  private CallObserver.Call call(UpstreamRequest request) {
    String requestId = header(request, "X-Request-Id");
    if (requestId == null || requestId.length() != 32) {
      return new CallObserver.Call(request, r -> { });
    }
    Matcher client = traceparent(header(request, "traceparent"));
    String traceId = client != null ? client.group(1) : requestId;
    String span = spanId();
    List<Map.Entry<String, String>> headers = new ArrayList<>(request.headers().size());
    for (Map.Entry<String, String> h : request.headers()) {
      if (!h.getKey().equalsIgnoreCase("traceparent")) {
        headers.add(h);
      }
    }
    headers.add(Map.entry("traceparent", "00-" + traceId + "-" + span + "-01"));
    long start = epochNanos();
    return new CallObserver.Call(new UpstreamRequest(request.method(), request.target(), headers, request.body()), r -> {
      Map<String, Object> attributes = new java.util.LinkedHashMap<>();
      attributes.put("http.request.method", request.method());
      boolean error;
      if (r instanceof UpstreamResult.Response response) {
        attributes.put("http.response.status_code", response.status());
        error = response.status() >= 500;
      } else {
        attributes.put("error.type", ((UpstreamResult.Failure) r).kind().name().toLowerCase(java.util.Locale.ROOT));
        error = true;
      }
      offer(new SpanData(traceId, span, requestId.substring(0, 16), "EPR " + request.method(), 3, start, epochNanos(),
          attributes, error));
    });
  }

  private void span(AuditRecord r) {
    Matcher client = traceparent(r.traceparent());
    String traceId = client != null ? client.group(1) : r.requestId();
    long start = r.time().getEpochSecond() * 1_000_000_000L + r.time().getNano();
    Map<String, Object> attributes = new java.util.LinkedHashMap<>();
    attributes.put("http.request.method", r.method());
    attributes.put("http.response.status_code", r.status());
    attributes.put("fhirwall.outcome", r.outcome().name().toLowerCase(java.util.Locale.ROOT));
    if (r.interaction() != null) {
      attributes.put("fhirwall.interaction", r.interaction());
    }
    if (r.resourceType() != null) {
      attributes.put("fhir.resource_type", r.resourceType());
    }
    if (r.rule() != null) {
      attributes.put("fhirwall.rule", r.rule());
    }
    if (r.role() != null) {
      attributes.put("fhirwall.role", r.role());
    }
    attributes.put("fhirwall.patients", r.patients().size());
    attributes.put("fhirwall.request_id", r.requestId());
    offer(new SpanData(traceId, r.requestId().substring(0, 16), client != null ? client.group(2) : null,
        "fhirwall " + (r.interaction() == null ? r.method() : r.interaction()), 2, start,
        start + r.durationMicros() * 1000, attributes, r.status() >= 500));
  }

  private void offer(SpanData span) {
    if (closed || !queue.offer(span)) {
      dropped.incrementAndGet();
    }
  }

  private void send() {
    List<SpanData> batch = new ArrayList<>(BATCH);
    while (!closed || !queue.isEmpty()) {
      try {
        SpanData first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, BATCH - 1);
        post(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException | RuntimeException e) {
        dropped.addAndGet(batch.size());
        LOG.warn("{} span(s) not sent to {}: {}", batch.size(), endpoint, e.toString());
      } finally {
        batch.clear();
      }
    }
  }

  private void post(List<SpanData> spans) throws IOException, InterruptedException {
    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(otlp(spans))).build(),
        HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() / 100 != 2) {
      throw new IOException("the collector answered " + r.statusCode());
    }
  }

  /** OTLP/HTTP JSON ({@code ExportTraceServiceRequest}). */
  private byte[] otlp(List<SpanData> spans) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512 * spans.size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("resourceSpans");
      g.writeStartObject();
      g.writeObjectFieldStart("resource");
      g.writeArrayFieldStart("attributes");
      attribute(g, "service.name", serviceName);
      g.writeEndArray();
      g.writeEndObject();
      g.writeArrayFieldStart("scopeSpans");
      g.writeStartObject();
      g.writeObjectFieldStart("scope");
      g.writeStringField("name", "org.fhirwall");
      g.writeEndObject();
      g.writeArrayFieldStart("spans");
      for (SpanData s : spans) {
        g.writeStartObject();
        g.writeStringField("traceId", s.traceId());
        g.writeStringField("spanId", s.spanId());
        if (s.parentSpanId() != null) {
          g.writeStringField("parentSpanId", s.parentSpanId());
        }
        g.writeStringField("name", s.name());
        g.writeNumberField("kind", s.kind());
        g.writeStringField("startTimeUnixNano", Long.toString(s.startNanos()));
        g.writeStringField("endTimeUnixNano", Long.toString(Math.max(s.startNanos(), s.endNanos())));
        g.writeArrayFieldStart("attributes");
        for (Map.Entry<String, Object> a : s.attributes().entrySet()) {
          attribute(g, a.getKey(), a.getValue());
        }
        g.writeEndArray();
        g.writeObjectFieldStart("status");
        g.writeNumberField("code", s.error() ? 2 : 1);
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void attribute(JsonGenerator g, String key, Object value) throws IOException {
    g.writeStartObject();
    g.writeStringField("key", key);
    g.writeObjectFieldStart("value");
    if (value instanceof Integer || value instanceof Long) {
      g.writeStringField("intValue", value.toString());
    } else {
      g.writeStringField("stringValue", value.toString());
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  private static @Nullable Matcher traceparent(@Nullable String value) {
    if (value == null) {
      return null;
    }
    Matcher m = TRACEPARENT.matcher(value.trim());
    return m.matches() ? m : null;
  }

  /** The last {@code name} header: fhirwall's own {@code X-Request-Id} comes after the client's. */
  private static @Nullable String header(UpstreamRequest r, String name) {
    String value = null;
    for (Map.Entry<String, String> h : r.headers()) {
      if (h.getKey().equalsIgnoreCase(name)) {
        value = h.getValue();
      }
    }
    return value;
  }

  /** A random span id for an EPR call (a request may make several). */
  private static String spanId() {
    return Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
  }

  private static long epochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Sends what is queued (up to a few seconds), then stops. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      sender.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
