package org.fhirwall.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.fhirwall.policy.PolicyEngine;
import org.fhirwall.policy.PolicySet;
import org.fhirwall.policy.RolePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the policy engine in force and swaps in a new one when the policy directory changes.
 * The directory is checked on a thread of its own; a changed set is loaded whole and replaces the
 * old one in one step only when it is valid and, unless the deployment allows it
 * ({@code policy-reload.allow-weakening}), weakens no role ({@link Weakening}). Whatever happens is
 * logged with file, line and key, and told to the {@link ReloadListener}. Requests in flight keep
 * the engine they started with.
 */
public final class PolicyReloader implements Supplier<PolicyEngine>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  private final Path dir;
  private final RolePolicyLoader loader;
  private final boolean allowWeakening;
  private final ReloadListener listener;
  private final AtomicReference<PolicyEngine> current;
  private final ScheduledExecutorService watcher;
  private volatile String fingerprint;

  /**
   * Loads the directory now (throwing when it is invalid) and checks it every {@code periodMillis}
   * (0: only when {@link #check()} is called).
   */
  public PolicyReloader(Path dir, RolePolicyLoader loader, boolean allowWeakening, long periodMillis, ReloadListener listener)
      throws ConfigException {
    this.dir = requireNonNull(dir, "dir");
    this.loader = requireNonNull(loader, "loader");
    this.allowWeakening = allowWeakening;
    this.listener = requireNonNull(listener, "listener");
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

  /** The reloader of a deployment's policy directory, with its reload and MFA settings. */
  public static PolicyReloader start(DeploymentConfig config, Set<String> knownResourceTypes, long periodMillis,
      ReloadListener listener) throws ConfigException {
    return new PolicyReloader(config.policies(), new RolePolicyLoader(knownResourceTypes, config.nonMfaAcr(), config.upstream().maxPageSize()),
        config.policyReload().allowWeakening(), periodMillis, listener);
  }

  @Override
  public PolicyEngine get() {
    return current.get();
  }

  /** Checks the directory once; returns true when a new policy set was put in force. */
  public synchronized boolean check() {
    String now = fingerprint(dir);
    if (now.equals(fingerprint)) {
      return false;
    }
    fingerprint = now;
    ReloadOutcome outcome;
    try {
      outcome = reload();
    } catch (ConfigException e) {
      LOG.error("policy change in {} NOT applied, the previous policies stay in force:\n{}", dir, e.getMessage());
      outcome = new ReloadOutcome.Refused(dir, e.problems(), List.of());
    } catch (RuntimeException e) {
      LOG.error("policy change in {} NOT applied, the previous policies stay in force", dir, e);
      outcome = new ReloadOutcome.Refused(dir, List.of(new ConfigProblem(dir.toString(), "", "cannot load: " + e)), List.of());
    }
    try {
      listener.reloaded(outcome);
    } catch (RuntimeException e) {
      LOG.error("policy reload listener failed on {}", outcome, e);
    }
    return outcome instanceof ReloadOutcome.Applied;
  }

  private ReloadOutcome reload() throws ConfigException {
    RolePolicyLoader.Loaded loaded = loader.loadLocated(dir);
    PolicySet before = current.get().policies();
    PolicySet after = loaded.policies();
    List<Weakening> weakenings = Weakening.between(before, after);
    if (!weakenings.isEmpty() && !allowWeakening) {
      List<ConfigProblem> problems = new ArrayList<>();
      for (Weakening w : weakenings) {
        Locations where = loaded.where().get(w.file());
        Location l = where == null ? Location.wholeFile(w.file()) : where.ofValue(Locations.pointer(List.of(w.key().split("\\."))));
        problems.add(l.problem(w.key(), w.after() + " (was " + w.before() + "; expected: no weaker than the policy in force, "
            + "or policy-reload.allow-weakening: true in the deployment file)"));
      }
      LOG.error("policy change in {} NOT applied: it weakens role(s), and policy-reload.allow-weakening is false; "
          + "the previous policies stay in force:\n{}", dir, new ConfigException(problems).getMessage());
      return new ReloadOutcome.Refused(dir, problems, weakenings);
    }
    current.set(new PolicyEngine(after));
    List<String> roles = names(after);
    List<String> added = new ArrayList<>(roles);
    added.removeAll(names(before));
    List<String> removed = names(before);
    removed.removeAll(roles);
    List<String> changed = new ArrayList<>();
    for (RolePolicy r : after.roles()) {
      before.byName(r.name()).filter(old -> !old.equals(r)).ifPresent(old -> changed.add(r.name()));
    }
    LOG.info("policies reloaded from {}: {} (added {}, removed {}, changed {})", dir, roles, added, removed, changed);
    if (!weakenings.isEmpty()) {
      LOG.warn("policy reload from {} weakened role(s), allowed by policy-reload.allow-weakening: {}", dir, weakenings);
    }
    return new ReloadOutcome.Applied(dir, roles, added, removed, changed, weakenings);
  }

  private static List<String> names(PolicySet set) {
    List<String> out = new ArrayList<>();
    set.roles().forEach(r -> out.add(r.name()));
    return out;
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
