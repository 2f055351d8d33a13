package org.fhirwall.server;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.fhirwall.quota.ClientThread;

/**
 * Fhirwall's event loops as the quota store's Redis client takes them ({@link ClientThread}): one
 * per loop, so that each loop gets a Redis connection of its own and a request's calls go out and
 * come back on its thread.
 */
public final class LettuceLoops {
  private LettuceLoops() {}

  /** One {@link ClientThread} per event loop of {@code group}. */
  public static List<ClientThread> of(EventLoopGroup group) {
    List<ClientThread> out = new ArrayList<>();
    for (EventExecutor e : group) {
      if (e instanceof EventLoop loop) {
        out.add(new ClientThread(new OneLoop(loop), loop::inEventLoop, loop));
      }
    }
    return List.copyOf(out);
  }

  /** Lends Lettuce one of fhirwall's event loops, and never shuts it down (fhirwall does). */
  private record OneLoop(EventLoop loop) implements EventLoopGroupProvider {
    @Override
    @SuppressWarnings("unchecked")
    public <T extends EventLoopGroup> T allocate(Class<T> type) {
      return (T) loop;
    }

    @Override
    public int threadPoolSize() {
      return 1;
    }

    @Override
    public Future<Boolean> release(EventExecutorGroup group, long quiet, long timeout, TimeUnit unit) {
      return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }

    @Override
    public Future<Boolean> shutdown(long quiet, long timeout, TimeUnit unit) {
      return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }
  }
}
