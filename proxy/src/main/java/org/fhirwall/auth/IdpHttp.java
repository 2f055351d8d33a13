package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * The auth stage's only I/O: asynchronous HTTP calls to the identity provider (discovery, JWKS,
 * introspection) whose JSON answers are read strictly (duplicate members and trailing content are
 * errors) and bounded in size. Results are completed on {@code background}, never on the caller.
 * Thread-safe.
 */
final class IdpHttp {
  /** Strict JSON: a duplicated member ("alg" twice) could mean different things to different readers. */
  static final ObjectReader STRICT_JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build()
      .readerFor(JsonNode.class);

  static final int MAX_RESPONSE_BYTES = 512 * 1024;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http;
  private final Executor background;

  IdpHttp(HttpClient http, Executor background) {
    this.http = requireNonNull(http, "http");
    this.background = requireNonNull(background, "background");
  }

  /** GET {@code uri} expecting a 200 JSON object. */
  CompletableFuture<JsonNode> getJson(URI uri) {
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", "application/json").GET().build();
    return send(request);
  }

  /** POST a form to {@code uri} with HTTP Basic credentials, expecting a 200 JSON object. */
  CompletableFuture<JsonNode> postForm(URI uri, String basicCredentials, String form) {
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Basic " + basicCredentials)
        .POST(HttpRequest.BodyPublishers.ofString(form))
        .build();
    return send(request);
  }

  private CompletableFuture<JsonNode> send(HttpRequest request) {
    CompletableFuture<HttpResponse<byte[]>> sent;
    try {
      sent = http.sendAsync(request, info -> new BoundedBody(MAX_RESPONSE_BYTES));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return sent.thenApplyAsync(response -> {
      if (response.statusCode() != 200) {
        throw new CompletionException(new IOException(request.method() + " " + request.uri() + ": HTTP "
            + response.statusCode() + " (expected: 200)"));
      }
      JsonNode node;
      try {
        node = STRICT_JSON.readTree(response.body());
      } catch (IOException e) {
        throw new CompletionException(new IOException(request.uri() + ": not JSON", e));
      }
      if (node == null || !node.isObject()) {
        throw new CompletionException(new IOException(request.uri() + ": not a JSON object"));
      }
      return node;
    }, background);
  }

  /** Collects a response body, failing once it grows past {@code max} bytes. */
  private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int max;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private Flow.@org.jspecify.annotations.Nullable Subscription subscription;

    BoundedBody(int max) {
      this.max = max;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (out.size() + b.remaining() > max) {
          result.completeExceptionally(new IOException("response larger than " + max + " bytes"));
          Flow.Subscription s = subscription;
          if (s != null) {
            s.cancel();
          }
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        out.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(out.toByteArray());
    }

    @Override
    public java.util.concurrent.CompletionStage<byte[]> getBody() {
      return result;
    }
  }
}
