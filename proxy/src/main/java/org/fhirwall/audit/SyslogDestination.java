package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * Audit lines to a SIEM as syslog (RFC 5424) over TLS (RFC 5425): one message per record,
 * {@code <PRI>1 TIMESTAMP HOST fhirwall - audit - JSON}, framed by octet counting
 * ({@code LENGTH SP MESSAGE}), facility 13 (log audit), severity informational for an allowed
 * request and notice otherwise. The server's certificate is checked against {@code caFile} (or the
 * JVM's trust store) and its host name. Connects on first use and again after a failure; a write
 * that does not finish within {@code timeout} (a server that stopped reading) closes the connection
 * and fails, so the audit writer retries rather than waits.
 */
final class SyslogDestination implements Destination {
  private static final int FACILITY = 13;

  private final String host;
  private final int port;
  private final SSLContext tls;
  private final Duration timeout;
  private final String hostname;
  private final ScheduledExecutorService watchdog;
  private @Nullable SSLSocket socket;
  private @Nullable OutputStream out;

  SyslogDestination(String host, int port, @Nullable Path caFile, Duration timeout) throws IOException {
    this.host = requireNonNull(host, "host");
    this.port = port;
    this.timeout = requireNonNull(timeout, "timeout");
    this.tls = context(caFile);
    String h;
    try {
      h = java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      h = "-";
    }
    this.hostname = h.isEmpty() || h.length() > 255 ? "-" : h.replace(' ', '-');
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fhirwall-audit-syslog-watchdog");
      t.setDaemon(true);
      return t;
    });
  }

  private static SSLContext context(@Nullable Path caFile) throws IOException {
    try {
      SSLContext c = SSLContext.getInstance("TLS");
      if (caFile == null) {
        c.init(null, null, null);
        return c;
      }
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      try (InputStream in = Files.newInputStream(caFile)) {
        int i = 0;
        for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          trust.setCertificateEntry("ca-" + i++, cert);
        }
        if (i == 0) {
          throw new IOException(caFile + ": no PEM certificate (expected: the CA certificates of the syslog server)");
        }
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      c.init(null, tmf.getTrustManagers(), null);
      return c;
    } catch (GeneralSecurityException e) {
      throw new IOException("syslog TLS: " + e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return "syslog";
  }

  private OutputStream connect() throws IOException {
    if (out != null) {
      return out;
    }
    SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket();
    try {
      SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      if (!Character.isDigit(host.charAt(0)) && !host.contains(":")) {
        p.setServerNames(List.of(new SNIHostName(host)));
      }
      s.setSSLParameters(p);
      s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      s.setSoTimeout((int) timeout.toMillis());
      s.startHandshake();
    } catch (IOException e) {
      s.close();
      throw e;
    }
    socket = s;
    out = new BufferedOutputStream(s.getOutputStream(), 1 << 16);
    return out;
  }

  @Override
  public void write(List<byte[]> lines, Instant now) throws IOException {
    OutputStream o = connect();
    SSLSocket s = socket;
    ScheduledFuture<?> stop = watchdog.schedule(() -> {
      try {
        s.close();
      } catch (IOException ignored) {
        // the write fails either way
      }
    }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    try {
      ByteArrayOutputStream msg = new ByteArrayOutputStream(2048);
      for (byte[] line : lines) {
        msg.reset();
        boolean allowed = contains(line, "\"outcome\":\"0\"");
        msg.writeBytes(("<" + (FACILITY * 8 + (allowed ? 6 : 5)) + ">1 " + now + " " + hostname + " fhirwall - audit - ")
            .getBytes(StandardCharsets.US_ASCII));
        msg.write(line, 0, line.length - 1);
        o.write(Integer.toString(msg.size()).getBytes(StandardCharsets.US_ASCII));
        o.write(' ');
        msg.writeTo(o);
      }
      o.flush();
    } catch (IOException e) {
      drop();
      throw e;
    } finally {
      stop.cancel(false);
    }
  }

  private static boolean contains(byte[] line, String what) {
    byte[] w = what.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + w.length <= Math.min(line.length, 1024); i++) {
      for (int j = 0; j < w.length; j++) {
        if (line[i + j] != w[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private void drop() {
    try {
      if (socket != null) {
        socket.close();
      }
    } catch (IOException ignored) {
      // reconnected on the next write
    }
    socket = null;
    out = null;
  }

  @Override
  public void reopen() {
    drop();
  }

  @Override
  public void close() throws IOException {
    try {
      if (out != null) {
        out.flush();
      }
    } finally {
      drop();
      watchdog.shutdownNow();
    }
  }
}
