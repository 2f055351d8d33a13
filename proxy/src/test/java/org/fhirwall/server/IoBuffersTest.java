package org.fhirwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import org.junit.jupiter.api.Test;

class IoBuffersTest {

  @Test
  void aBundleSizedBufferComesFromThePoolNotOneOfItsOwn() {
    ByteBufAllocator alloc = IoBuffers.allocator();
    PooledByteBufAllocatorMetric metric = ((PooledByteBufAllocator) alloc).metric();
    for (int i = 0; i < 1_000; i++) { // a 50-entry Bundle's answer is about 40 KB; the EPR's answer is read into 64 KiB
      ByteBuf read = alloc.ioBuffer(64 * 1024);
      ByteBuf written = alloc.ioBuffer(43_000, 43_000);
      written.release();
      read.release();
    }
    long huge = 0;
    long normal = 0;
    for (PoolArenaMetric arena : java.util.stream.Stream.concat(metric.directArenas().stream(), metric.heapArenas().stream())
        .toList()) {
      huge += arena.numHugeAllocations();
      normal += arena.numNormalAllocations();
    }
    assertThat(huge).as("buffers allocated on their own").isZero();
    assertThat(normal).as("buffers taken from the arenas").isEqualTo(2_000);
    assertThat(metric.usedDirectMemory() + metric.usedHeapMemory()).as("memory held after 2,000 buffers")
        .isEqualTo(metric.chunkSize());
  }
}
