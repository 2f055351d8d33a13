package org.fhirwall.server;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;

/**
 * The allocator of the buffers fhirwall's connections read into and write from, client and EPR alike: one per
 * server, given to both bootstraps.
 *
 * <p>Why not Netty's default: Netty 4.2's adaptive allocator runs in a low-memory mode whenever the JVM's maximum
 * heap is 512 MB or less (fhirwall's launch command gives it 256 MB). It then pools no buffer larger than 16,896
 * bytes: each larger one (the EPR's answer read off the socket, the answer written to the client: about 40 KB each
 * for a 50-entry Bundle) is a direct {@code ByteBuffer} of its own, zeroed, registered with a cleaner and freed
 * after use; and its shared magazines keep no cache per event loop. The pooled allocator takes buffers up to its
 * chunk size (4 MiB) from its arenas and gives each event loop a cache of the smaller ones; direct memory stays
 * bounded by {@code -XX:MaxDirectMemorySize}, as before.
 */
final class IoBuffers {
  private IoBuffers() {}

  /** A new pooled allocator (direct buffers where the platform allows them), with Netty's default arenas and caches. */
  static ByteBufAllocator allocator() {
    return new PooledByteBufAllocator(PlatformDependent.directBufferPreferred());
  }
}
