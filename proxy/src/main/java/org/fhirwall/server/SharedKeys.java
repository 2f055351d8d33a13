package org.fhirwall.server;

import java.io.IOException;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.quota.QuotaStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The keys every replica must agree on: the paging links' key and the keys derived from it. */
final class SharedKeys {
  // Logged under the name operators know these lines by.
  private static final Logger LOG = LoggerFactory.getLogger(Fhirwall.class);

  private SharedKeys() {}

  /** A key for another purpose derived from a shared one (HMAC-SHA256 of the purpose), so replicas agree on it too. */
  static byte[] derivedKey(byte[] shared, String purpose) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(shared, "HmacSHA256"));
      return mac.doFinal(purpose.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 missing from the JDK", e);
    }
  }

  /** The paging links' key: from {@code paging.secret-file}, else the one the quota store keeps (shared by replicas). */
  static byte[] pagingSecret(DeploymentConfig.Paging paging, QuotaStore quota) throws IOException, InterruptedException {
    if (paging.secretFile() == null) {
      byte[] proposed = new byte[32];
      new SecureRandom().nextBytes(proposed);
      // Retried for a while: a store just connected may still be settling (a reconnect, a failover).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          return quota.sharedSecret("paging", proposed).toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IOException("the paging key could not be read from the quota store: " + e.getMessage(), e);
          }
          LOG.warn("the paging key could not be read from the quota store yet ({}); retrying", e.getMessage());
          Thread.sleep(250);
        }
      }
    }
    byte[] secret = Files.readAllBytes(paging.secretFile());
    if (secret.length < 32) {
      throw new IOException("paging.secret-file " + paging.secretFile() + ": " + secret.length + " bytes (expected: at least 32)");
    }
    return secret;
  }
}
