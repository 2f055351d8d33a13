package org.fhirwall.audit;

/**
 * Where audit records go. {@link #write} never blocks the caller (it is called on event loops);
 * {@link #close} writes out everything accepted before returning, so an orderly shutdown loses
 * no record.
 */
public interface AuditSink extends AutoCloseable {

  void write(AuditRecord record);

  /**
   * Whether the trail takes records as it must: false only when a destination fails and the
   * deployment chose to refuse requests rather than serve them unaudited.
   */
  default boolean accepting() {
    return true;
  }

  /** Records accepted but not written because the sink could not keep up or failed. */
  long dropped();

  @Override
  void close();
}
