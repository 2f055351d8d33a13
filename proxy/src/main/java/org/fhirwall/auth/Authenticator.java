package org.fhirwall.auth;

import java.time.Instant;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Turns the {@code Authorization} header of a request into a {@link Principal}, or a refusal.
 *
 * <p>Implementations never block the calling thread: key fetches and introspection complete the
 * returned stage later, on a thread of their own; callers hop back to their event loop. A token
 * that could not be fully verified is refused, never let through.
 */
public interface Authenticator {

  /**
   * @param authorization the raw {@code Authorization} header value, null when the request had none
   * @param now the current time (injected so expiry is testable)
   */
  CompletionStage<AuthOutcome> authenticate(@Nullable String authorization, Instant now);

  /**
   * Authenticates with everything the request shows of its sender (DPoP proofs, the URL they must
   * name, the TLS client certificate). This default knows bearer tokens only: it refuses the DPoP
   * scheme rather than accept a bound token without its proof.
   */
  default CompletionStage<AuthOutcome> authenticate(Credentials credentials, Instant now) {
    String a = credentials.authorization();
    if (a != null && TokenReader.schemeOf(a.strip()) == TokenReader.Scheme.DPOP) {
      return java.util.concurrent.CompletableFuture.completedFuture(new AuthOutcome.Refused(
          Challenges.invalidDpopToken("DPoP-bound tokens are not accepted here", AuthSettings.DEFAULT_ALGORITHMS)));
    }
    return authenticate(a, now);
  }

  /** Whether tokens can be verified now (e.g. usable signing keys are cached); for readiness probes. */
  default boolean canVerify() {
    return true;
  }

  /**
   * Fetches what verification needs (the issuer's keys) now rather than on the first request;
   * never blocks, never fails (a failed fetch leaves {@link #canVerify} false).
   */
  default void prepare(Instant now) {
  }

  /** Registers what this authenticator counts (key refreshes and their failures, ...). */
  default void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
  }
}
