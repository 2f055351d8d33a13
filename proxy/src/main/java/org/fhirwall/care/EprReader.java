package org.fhirwall.care;

import java.util.concurrent.CompletionStage;

/**
 * How the relationship source reads the EPR: a GET of {@code target} (relative to the EPR's base
 * URL, e.g. {@code Encounter?participant=Practitioner/1}) sent with fhirwall's own credentials
 * ({@code upstream.headers}), never a client's. Completes with the answer, or exceptionally when
 * there is none (unreachable, timeout, too large). Thread-safe; must not block the caller.
 */
@FunctionalInterface
public interface EprReader {

  CompletionStage<Answer> get(String target);

  /** The EPR's answer: status and body bytes (the reader owns nothing after it returns). */
  record Answer(int status, byte[] body) {}
}
