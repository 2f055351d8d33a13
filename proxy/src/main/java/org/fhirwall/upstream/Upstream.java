package org.fhirwall.upstream;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Where allowed requests go: the EPR. {@link #send} is called on the client connection's event
 * loop and completes on it, always with an {@link UpstreamResult} (failures are results, never
 * exceptions).
 */
public interface Upstream {
  Future<UpstreamResult> send(EventLoop loop, UpstreamRequest request);
}
