package org.fhirwall.it.jpa;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Holds the one {@link JpaEpr} of an integration run: started by the first test class that asks for it, kept in
 * JUnit's root store and stopped when the run ends (whatever happened), so every suite that runs against the JPA
 * server shares one server, one database and one data load.
 */
public final class JpaEprExtension implements ParameterResolver {
  /** Patients the JPA server holds (with about six clinical resources each). */
  public static final int PATIENTS = 200;
  public static final long SEED = 7;

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == JpaEpr.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return epr(context);
  }

  /** The run's JPA server, started on first use. */
  public static JpaEpr epr(ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.create(JpaEprExtension.class))
        .getOrComputeIfAbsent(JpaEpr.class, k -> new Holder(), Holder.class).epr;
  }

  private static final class Holder implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    final JpaEpr epr;

    Holder() {
      try {
        epr = JpaEpr.start(PATIENTS, SEED);
      } catch (Exception e) {
        throw new IllegalStateException("the HAPI FHIR JPA server did not start: " + e, e);
      }
    }

    @Override
    public void close() throws Exception {
      epr.close();
    }
  }
}
