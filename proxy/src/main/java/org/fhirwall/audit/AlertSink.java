package org.fhirwall.audit;

/** Where "an account reached its limit" and similar alerts go. Never blocks the caller. */
public interface AlertSink extends AutoCloseable {

  void alert(Alert alert);

  @Override
  void close();
}
