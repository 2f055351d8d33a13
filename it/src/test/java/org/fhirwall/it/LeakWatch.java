package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while it ran. Tests run with
 * {@code -Dio.netty.leakDetection.level=paranoid}; leaks are only reported after the leaked buffer
 * is collected and a later allocation is tracked, so this collects garbage and allocates before
 * looking.
 */
public final class LeakWatch implements AfterAllCallback {

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    List<String> leaks = List.of();
    for (int round = 0; round < 3 && leaks.isEmpty(); round++) {
      System.gc();
      Thread.sleep(100);
      for (int i = 0; i < 200; i++) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.release();
      }
      leaks = LeakReports.drain();
    }
    assertThat(leaks).as("Netty buffer leaks reported during " + context.getDisplayName()).isEmpty();
  }
}
