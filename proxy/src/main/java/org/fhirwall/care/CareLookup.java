package org.fhirwall.care;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.fhirwall.auth.Principal;

/**
 * What the sequencer asks for a request whose role charges unexplained patients: the principal's
 * care relationships. Never completes exceptionally (whatever fails is
 * {@link CareRelationships.Unknown}, so nobody is explained).
 */
@FunctionalInterface
public interface CareLookup {

  /** A deployment without {@code relationships}: nobody has any, every patient is unexplained. */
  CareLookup NONE = p -> CompletableFuture.completedFuture(
      new CareRelationships.Unknown("the deployment file has no relationships section"));

  CompletionStage<CareRelationships> of(Principal principal);
}
