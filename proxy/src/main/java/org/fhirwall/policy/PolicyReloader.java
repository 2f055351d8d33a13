package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the policy engine in force and swaps in a new one when the policy directory changes.
 * The directory is checked on a thread of its own; a changed set is loaded whole and replaces the
 * old one in one step only when it is valid — an invalid file never replaces a valid set (the
 * problems are logged with file, line and key). Requests in flight keep the engine they started
 * with.
 */
public final class PolicyReloader implements Supplier<PolicyEngine>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  private final Path dir;
  private final RolePolicyLoader loader;
  private final AtomicReference<PolicyEngine> current;
  private final ScheduledExecutorService watcher;
  private volatile String fingerprint;

  /** Loads the directory now (throwing when it is invalid) and checks it every {@code periodMillis}. */
  public PolicyReloader(Path dir, RolePolicyLoader loader, long periodMillis) throws ConfigException {
    this.dir = requireNonNull(dir, "dir");
    this.loader = requireNonNull(loader, "loader");
    this.fingerprint = fingerprint(dir);
    this.current = new AtomicReference<>(new PolicyEngine(loader.loadDirectory(dir)));
    this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fhirwall-policy-reload");
      t.setDaemon(true);
      return t;
    });
    if (periodMillis > 0) {
      watcher.scheduleWithFixedDelay(this::check, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public PolicyEngine get() {
    return current.get();
  }

  /** Checks the directory once; returns true when a new policy set was put in force. */
  public boolean check() {
    String now = fingerprint(dir);
    if (now.equals(fingerprint)) {
      return false;
    }
    fingerprint = now;
    try {
      PolicySet set = loader.loadDirectory(dir);
      current.set(new PolicyEngine(set));
      LOG.info("policies reloaded from {}: {}", dir, set.roles().stream().map(RolePolicy::name).toList());
      return true;
    } catch (ConfigException e) {
      LOG.error("policy change in {} NOT applied, the previous policies stay in force:\n{}", dir, e.getMessage());
      return false;
    } catch (RuntimeException e) {
      LOG.error("policy change in {} NOT applied, the previous policies stay in force", dir, e);
      return false;
    }
  }

  /** A digest of the names and contents of the directory's policy files (small files, read every check). */
  static String fingerprint(Path dir) {
    List<String> parts = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(RolePolicyLoader::isYaml).sorted().forEach(p -> {
        try {
          byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
          parts.add(p.getFileName() + ":" + HexFormat.of().formatHex(digest));
        } catch (IOException | NoSuchAlgorithmException e) {
          parts.add(p.getFileName() + ":?");
        }
      });
    } catch (IOException e) {
      return "unreadable:" + e.getMessage();
    }
    return String.join("|", parts);
  }

  @Override
  public void close() {
    watcher.shutdownNow();
  }
}
