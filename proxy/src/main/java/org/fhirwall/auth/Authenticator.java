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
}
