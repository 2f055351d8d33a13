package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An EPR that misbehaves on purpose, at the byte level: each request (read up to the end of its head) is answered
 * with the raw bytes {@link #answer} currently holds, then the connection is closed. A {@code null} answer closes
 * the connection without a word; an answer may also wait for {@link #release} first. Counts the requests it read.
 * On 127.0.0.1, a free port; {@link #close()} stops it.
 */
final class RawEpr implements AutoCloseable {
  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "raw-epr");
    t.setDaemon(true);
    return t;
  });
  final AtomicReference<String> answer = new AtomicReference<>();
  final AtomicInteger requests = new AtomicInteger();
  /** While set, answers wait until it counts down (a request held in flight). */
  final AtomicReference<java.util.concurrent.CountDownLatch> release = new AtomicReference<>();
  /** Counts down once per request received, for tests that wait until the EPR holds one. */
  final AtomicReference<java.util.concurrent.CountDownLatch> arrived = new AtomicReference<>();

  RawEpr(String answer) throws IOException {
    this.answer.set(answer);
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    threads.execute(this::acceptLoop);
  }

  String base() {
    return "http://127.0.0.1:" + server.getLocalPort() + "/fhir";
  }

  /** A complete response with a correct Content-Length. */
  static String response(String status, String contentType, String body) {
    byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return "HTTP/1.1 " + status + "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + bytes.length
        + "\r\nConnection: close\r\n\r\n" + new String(bytes, ISO_8859_1);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        threads.execute(() -> serve(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      int matched = 0;
      int b;
      while (matched < 4 && (b = in.read()) != -1) {
        matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      requests.incrementAndGet();
      java.util.concurrent.CountDownLatch a = arrived.get();
      if (a != null) {
        a.countDown();
      }
      java.util.concurrent.CountDownLatch hold = release.get();
      if (hold != null) {
        hold.await();
      }
      String raw = answer.get();
      if (raw != null) {
        OutputStream out = s.getOutputStream();
        out.write(raw.getBytes(ISO_8859_1));
        out.flush();
      }
    } catch (IOException e) {
      // fhirwall went away first
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }
}
