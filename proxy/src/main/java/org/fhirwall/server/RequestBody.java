package org.fhirwall.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.function.Consumer;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.respond.Refusals;

/**
 * The body of the request under way, read only once its sender is known. Until the exchange says
 * what to do, only what the decoder has already produced is held (reading is paused); then the
 * body is either {@link #collect collected} (bounded by the size limit) for a principal whose token
 * was verified, or {@link #discard discarded} unread for one whose token was not — nothing is
 * parsed, decompressed or kept for a caller fhirwall does not know. {@code Expect: 100-continue}
 * is answered only after the token is verified.
 *
 * <p>Confined to the channel's event loop. Owns the buffers it holds and releases each exactly once.
 */
final class RequestBody {
  private enum State { HELD, COLLECTING, DISCARDING, OVER, DONE }

  private final ChannelHandlerContext ctx;
  private final int maxBytes;
  private final boolean expectsContinue;
  private final CompositeByteBuf held;
  private State state = State.HELD;
  private boolean complete;
  private Consumer<byte[]> whole = b -> { };
  private Consumer<Refusal> failed = r -> { };
  private boolean lost;
  private Consumer<Boolean> drained = close -> { };

  RequestBody(ChannelHandlerContext ctx, int maxBytes, boolean expectsContinue) {
    this.ctx = ctx;
    this.maxBytes = maxBytes;
    this.expectsContinue = expectsContinue;
    this.held = ctx.alloc().compositeBuffer(1024);
  }

  /** Whether the whole body has arrived (so the connection can serve another request). */
  boolean complete() {
    return complete;
  }

  /** A piece of the body from the decoder; this takes ownership of it. */
  void offer(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    try {
      switch (state) {
        case HELD, COLLECTING -> {
          ByteBuf bytes = content.content();
          if (held.readableBytes() + bytes.readableBytes() > maxBytes) {
            boolean collecting = state == State.COLLECTING;
            state = State.OVER;
            held.release();
            if (collecting) {
              failed.accept(Refusals.bodyTooLarge(maxBytes));
            }
            return;
          }
          if (bytes.isReadable()) {
            held.addComponent(true, bytes.retain());
          }
        }
        case DISCARDING, OVER, DONE -> { }
      }
    } finally {
      content.release();
    }
    complete |= last;
    if (state == State.COLLECTING) {
      if (last) {
        deliver();
      } else {
        ctx.read();
      }
    } else if (state == State.DISCARDING) {
      if (last) {
        state = State.DONE;
        drained.accept(false);
      } else {
        ctx.read();
      }
    }
  }

  /**
   * Reads the whole body, then hands it over; a body over the limit (413), or one whose
   * connection broke before it arrived, ends in {@code onFailed} instead.
   */
  void collect(Consumer<byte[]> onWhole, Consumer<Refusal> onFailed) {
    if (state == State.OVER) {
      state = State.DONE;
      onFailed.accept(Refusals.bodyTooLarge(maxBytes));
      return;
    }
    if (state != State.HELD) {
      return;
    }
    if (lost && !complete) {
      held.release();
      state = State.DONE;
      onFailed.accept(Refusals.connectionLost());
      return;
    }
    state = State.COLLECTING;
    this.whole = onWhole;
    this.failed = onFailed;
    if (complete) {
      deliver();
      return;
    }
    if (expectsContinue) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    ctx.read();
  }

  /**
   * Drops the body unread, then calls {@code onDrained}; its argument is true when the connection
   * must close after the answer (the client still waits to send a body it was not asked for).
   */
  void discard(Consumer<Boolean> onDrained) {
    if (state == State.OVER) {
      state = State.DONE;
      onDrained.accept(true);
      return;
    }
    if (state != State.HELD) {
      return;
    }
    held.release();
    if (complete) {
      state = State.DONE;
      onDrained.accept(false);
      return;
    }
    if (expectsContinue || lost) {
      state = State.DONE;
      onDrained.accept(true);
      return;
    }
    state = State.DISCARDING;
    this.drained = onDrained;
    ctx.read();
  }

  /** The connection closed: a body still awaited never comes; the exchange ends (and is audited). */
  void connectionLost() {
    lost = true;
    if (complete) {
      return;
    }
    if (state == State.COLLECTING) {
      held.release();
      state = State.DONE;
      failed.accept(Refusals.connectionLost());
    } else if (state == State.DISCARDING) {
      state = State.DONE;
      drained.accept(true);
    }
  }

  /** Releases what is held when the exchange ends before the body was taken. */
  void release() {
    if (state == State.HELD || state == State.COLLECTING) {
      held.release();
    }
    state = State.DONE;
  }

  private void deliver() {
    state = State.DONE;
    byte[] bytes = ByteBufUtil.getBytes(held);
    held.release();
    whole.accept(bytes);
  }
}
