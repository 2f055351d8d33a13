package org.fhirwall.it.keycloak;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests the one {@link KeycloakServer} of the test run: started on first use, kept in the
 * root {@link ExtensionContext.Store}, and closed by JUnit when the run ends (the store closes
 * {@link AutoCloseable} values). Use it with {@code @ExtendWith(KeycloakExtension.class)} and a
 * {@code KeycloakServer} parameter (in a {@code @BeforeAll} method, a constructor or a test).
 */
public final class KeycloakExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KeycloakExtension.class);

  /** The run's Keycloak, starting it if this is the first use. */
  public static KeycloakServer server(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(KeycloakServer.class, type -> KeycloakServer.start(), KeycloakServer.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == KeycloakServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return server(context);
  }
}
