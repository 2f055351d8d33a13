package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An EPR that answers every request with the same Patient ({@code p1}, 200, FHIR JSON), after
 * {@link Before} has run for it (to count it, or to make it slow). On 127.0.0.1, a free port,
 * over plain HTTP or over the TLS a given {@link HttpsServer} is configured with; {@link #close()}
 * stops it and its threads. For the tests whose subject is fhirwall's handling of the EPR's
 * connection, time or certificate, not of its content.
 */
final class OnePatientEpr implements AutoCloseable {
  static final String PATIENT = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}";

  /** What happens to a request before its answer: may wait; an interruption ends the wait, not the answer. */
  @FunctionalInterface
  interface Before {
    void run(HttpExchange exchange) throws InterruptedException;

    Before NOTHING = exchange -> {};
  }

  private final HttpServer server;
  private final ExecutorService threads;

  private OnePatientEpr(HttpServer server, int threads, Before before) {
    this.server = server;
    this.threads = Executors.newFixedThreadPool(threads);
    server.createContext("/", exchange -> {
      try (exchange) {
        before.run(exchange);
        byte[] body = PATIENT.getBytes(UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        // fhirwall gave up on the answer (its timeout) and closed the connection
      }
    });
    server.setExecutor(this.threads);
    server.start();
  }

  /** Over plain HTTP, {@code threads} answering at once. */
  static OnePatientEpr start(int threads, Before before) {
    try {
      return new OnePatientEpr(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64),
          threads, before);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Over the TLS {@code https} is configured with (not yet started, on a loopback port). */
  static OnePatientEpr start(HttpsServer https, int threads) {
    return new OnePatientEpr(https, threads, Before.NOTHING);
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Its FHIR base, {@code http(s)://127.0.0.1:PORT/fhir}. */
  String base() {
    return (server instanceof HttpsServer ? "https" : "http") + "://127.0.0.1:" + port() + "/fhir";
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
