package org.fhirwall.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.fhirwall.config.DeploymentConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The watch on the certificate files (the public port's, the EPR client's) that reloads them when they change. */
final class CertificateWatch {
  // Logged under the name operators know these lines by.
  private static final Logger LOG = LoggerFactory.getLogger(Fhirwall.class);

  private CertificateWatch() {}

  /** Reloads the certificates when one of their files changes (checked every 30 s, off the event loops). */
  static void watchCertificates(DeploymentConfig config, FhirwallServer server, ScheduledExecutorService watch) {
    List<Path> files = new ArrayList<>();
    if (config.tls() != null) {
      files.add(config.tls().certificate());
      files.add(config.tls().privateKey());
      if (config.tls().clientCa() != null) {
        files.add(config.tls().clientCa());
      }
    }
    DeploymentConfig.UpstreamTls u = config.upstream().tls();
    for (Path p : new Path[] {u.ca(), u.certificate(), u.privateKey()}) {
      if (p != null) {
        files.add(p);
      }
    }
    if (files.isEmpty()) {
      return;
    }
    AtomicReference<String> seen = new AtomicReference<>(stamp(files));
    watch.scheduleWithFixedDelay(() -> {
      String now = stamp(files);
      if (!now.equals(seen.getAndSet(now))) {
        LOG.info("a certificate file changed: reloading");
        server.reloadCertificates();
      }
    }, 30, 30, TimeUnit.SECONDS);
  }

  private static String stamp(List<Path> files) {
    StringBuilder sb = new StringBuilder();
    for (Path p : files) {
      try {
        sb.append(Files.getLastModifiedTime(p).toMillis()).append(':').append(Files.size(p)).append(';');
      } catch (IOException e) {
        sb.append("missing;");
      }
    }
    return sb.toString();
  }
}
