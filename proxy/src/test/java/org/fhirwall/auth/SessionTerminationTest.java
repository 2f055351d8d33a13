package org.fhirwall.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Ending a locked user's sessions at the IdP is tried again, with growing waits, until the IdP
 * confirms it when the IdP fails for a while (slow, restarting, answering 5xx), since a stolen
 * session left open at the source outlives the lock's purpose; an answer that says the call can
 * never succeed (the user is unknown) is not repeated. Against a small HTTP server on loopback
 * standing in for Keycloak's token and admin endpoints (waits in milliseconds).
 */
class SessionTerminationTest {
  private HttpServer server;
  private final ExecutorService background = Executors.newSingleThreadExecutor();
  private final Deque<Integer> logoutAnswers = new ArrayDeque<>();
  private final AtomicInteger logouts = new AtomicInteger();
  private final AtomicInteger tokens = new AtomicInteger();
  /** How long the admin endpoint takes to answer each logout, in turn (then at once). */
  private final Deque<Long> logoutDelays = new ArrayDeque<>();
  private String issuer;
  private SessionTermination termination;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/realms/r/protocol/openid-connect/token", ex -> {
      tokens.incrementAndGet();
      answer(ex, 200, "{\"access_token\":\"t" + tokens.get() + "\",\"expires_in\":300}");
    });
    server.createContext("/admin/realms/r/users/", ex -> {
      logouts.incrementAndGet();
      Integer status;
      Long delay;
      synchronized (logoutAnswers) {
        status = logoutAnswers.isEmpty() ? 204 : logoutAnswers.poll();
        delay = logoutDelays.poll();
      }
      if (delay != null) {
        try {
          Thread.sleep(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      answer(ex, status, "");
    });
    server.setExecutor(Executors.newCachedThreadPool()); // a slow answer holds up no other
    server.start();
    issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/realms/r";
    termination = termination(new SessionTermination.Backoff(Duration.ofMillis(20), Duration.ofMillis(80), Duration.ofSeconds(30)));
  }

  private SessionTermination termination(SessionTermination.Backoff backoff) {
    return new SessionTermination(SessionTermination.Settings.keycloak(issuer, "fhirwall", "secret"), HttpClient.newHttpClient(),
        background, Clock.systemUTC(), backoff, Duration.ofSeconds(2));
  }

  @AfterEach
  void stop() throws InterruptedException {
    server.stop(0);
    background.shutdownNow();
    background.awaitTermination(5, TimeUnit.SECONDS);
  }

  private static void answer(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(UTF_8);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
    ex.close();
  }

  private void answers(Integer... statuses) {
    synchronized (logoutAnswers) {
      logoutAnswers.addAll(List.of(statuses));
    }
  }

  @Test
  void aLogoutTheIdpFailsIsTriedAgainUntilItIsDone() throws Exception {
    answers(503, 500);
    termination.endSessions("user-1").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(logouts.get()).isEqualTo(3);
    assertThat(termination.ended()).isEqualTo(1);
    assertThat(termination.retried()).isEqualTo(2);
  }

  @Test
  void aLogoutIsTriedUntilTheIdpConfirmsItHoweverManyTriesFailBefore() throws Exception {
    answers(503, 503, 502, 503, 500, 503, 503); // a loaded IdP's bad minute: more than two more tries
    termination.endSessions("user-1").toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(logouts.get()).isEqualTo(8);
    assertThat(termination.ended()).isEqualTo(1);
    assertThat(termination.failed()).isZero();
  }

  @Test
  void aLogoutTheIdpAnswersTooLateIsTriedAgain() throws Exception {
    synchronized (logoutAnswers) {
      logoutDelays.addAll(List.of(3_000L, 3_000L)); // past the client's 2 s, twice
    }
    termination.endSessions("user-1").toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(logouts.get()).isEqualTo(3);
  }

  @Test
  void aTryItsThreadRefusesEndsInAFailureToAlertOnNotInSilence() {
    java.util.concurrent.atomic.AtomicBoolean refusing = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.Executor stopping = task -> {
      if (refusing.get()) {
        throw new java.util.concurrent.RejectedExecutionException("stopping");
      }
      background.execute(task);
    };
    server.createContext("/admin/realms/r/users/stopping/", ex -> {
      refusing.set(true); // fhirwall stops while the first try is under way
      answer(ex, 503, "");
    });
    SessionTermination t = new SessionTermination(SessionTermination.Settings.keycloak(issuer, "fhirwall", "secret"),
        HttpClient.newHttpClient(), stopping, Clock.systemUTC(),
        new SessionTermination.Backoff(Duration.ofMillis(20), Duration.ofMillis(20), Duration.ofSeconds(30)), Duration.ofSeconds(2));
    assertThatThrownBy(() -> t.endSessions("stopping").toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("stopping");
    assertThat(t.failed()).isEqualTo(1);
  }

  @Test
  void theWaitsDoubleUpToTheirMaximum() {
    SessionTermination.Backoff b = SessionTermination.BACKOFF;
    assertThat(List.of(b.after(1), b.after(2), b.after(3), b.after(4), b.after(5), b.after(6), b.after(7), b.after(50)))
        .extracting(Duration::toSeconds).containsExactly(2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L);
    assertThat(b.giveUpAfter()).isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void aRefusedServiceTokenIsFetchedAgainBeforeTheNextTry() throws Exception {
    answers(401);
    termination.endSessions("user-1").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(logouts.get()).isEqualTo(2);
    assertThat(tokens.get()).isEqualTo(2);
  }

  @Test
  void theFailureIsReportedWhenTheTimeForTriesHasRunOut() {
    SessionTermination brief = termination(new SessionTermination.Backoff(Duration.ofMillis(20), Duration.ofMillis(20),
        Duration.ofMillis(50)));
    answers(503, 503, 503, 503, 503, 503, 503, 503, 503, 503);
    assertThatThrownBy(() -> brief.endSessions("user-1").toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("503");
    assertThat(logouts.get()).as("no try starts past the 50 ms").isBetween(1, 3);
    assertThat(brief.failed()).isEqualTo(1);
  }

  @Test
  void anUnknownUserIsNotTriedAgain() {
    answers(404);
    assertThatThrownBy(() -> termination.endSessions("nobody").toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("404");
    assertThat(logouts.get()).isEqualTo(1);
    assertThat(termination.failed()).isEqualTo(1);
  }
}
