package org.fhirwall.server;

import java.net.http.HttpClient;
import java.time.Clock;
import java.util.concurrent.Executor;
import org.fhirwall.auth.AuthSettings;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.JwtAuthenticator;
import org.fhirwall.policy.DeploymentConfig;

/** Builds the token checker from the deployment file's {@code identity} section, key by key. */
final class IdentityWiring {
  private IdentityWiring() {}

  static AuthSettings settings(DeploymentConfig.Identity id) {
    DeploymentConfig.Introspection in = id.introspection();
    return AuthSettings.builder(id.issuer(), id.audiences())
        .clients(id.clients())
        .algorithms(id.algorithms())
        .clockSkew(id.clockSkew())
        .discoveryUrl(id.discoveryUrl())
        .jwksUri(id.jwksUri())
        .roleClaims(id.roleClaims())
        .usernameClaim(id.usernameClaim())
        .introspection(in == null ? null : new AuthSettings.Introspection(in.endpoint(), in.clientId(), in.clientSecret(), in.cacheFor()))
        .jwksRefreshMinInterval(id.jwksRefreshInterval())
        .jwksMaxAge(id.jwksMaxAge())
        .maxTokenBytes(id.maxTokenBytes())
        .build();
  }

  static Authenticator authenticator(DeploymentConfig.Identity id, HttpClient http, Executor background, Clock clock) {
    return JwtAuthenticator.create(settings(id), http, background, clock);
  }
}
