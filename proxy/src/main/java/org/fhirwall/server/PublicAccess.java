package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import org.fhirwall.auth.SmartConfiguration;
import org.fhirwall.respond.Cors;
import org.jspecify.annotations.Nullable;

/**
 * What fhirwall answers without a token: CORS preflights (with {@code cors}), and with
 * {@code smart} the SMART discovery document and a public CapabilityStatement.
 *
 * @param smart null: no SMART discovery (404), and {@code /metadata} needs a token like any request
 */
public record PublicAccess(Cors cors, @Nullable SmartConfiguration smart, PublicMetadata metadata) {
  public static final PublicAccess NONE = new PublicAccess(Cors.NONE, null);

  public PublicAccess {
    requireNonNull(cors, "cors");
    requireNonNull(metadata, "metadata");
  }

  public PublicAccess(Cors cors, @Nullable SmartConfiguration smart) {
    this(cors, smart, new PublicMetadata());
  }
}
