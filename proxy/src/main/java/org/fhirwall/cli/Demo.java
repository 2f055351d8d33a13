package org.fhirwall.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The demo, as the {@code demo} verb runs it. The product does not contain it: the demo module
 * implements this interface and registers the implementation in
 * {@code META-INF/services/org.fhirwall.cli.Demo}; the verb finds it with
 * {@link java.util.ServiceLoader}, on the class path or in {@code fhirwall-demo.jar}, loaded by a
 * child class loader whose parent supplies the product's classes (see {@link DemoJar}).
 *
 * <p>An implementation needs a public no-argument constructor. {@link #run} is called once, on
 * the verb's thread, with that class loader as the thread's context class loader.
 */
public interface Demo {

  /**
   * The verb's options, already checked by the verb.
   *
   * @param report where to write the JSON summary, or null for none
   * @param keepRunning leave everything running after the script (never returns then)
   * @param envFile with {@code keepRunning}: where to write addresses and a token for scripts, or null
   * @param patients synthetic patients in the EPR (at least 100)
   * @param seed seed of the synthetic data
   */
  record Options(@Nullable Path report, boolean keepRunning, @Nullable Path envFile, int patients, long seed) {}

  /**
   * Starts the demo's EPR, token issuer and fhirwall on loopback, plays the incident script,
   * prints its table to {@code out}, and stops everything (unless {@code keepRunning}).
   *
   * @return the process exit code: 0 when fhirwall held (no patient to a password-only token, no
   *     more than the role's limit to the stolen session), 1 otherwise or when it could not start
   */
  int run(Options options, PrintWriter out, PrintWriter err) throws Exception;
}
