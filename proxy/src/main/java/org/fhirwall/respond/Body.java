package org.fhirwall.respond;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * An answer's body: either one array, or an array with edits ({@link JsonSplicer}) that are applied
 * while the body is written out ({@link #writeTo}), so that a spliced body is not copied into an array
 * of its own before the server copies it into its network buffer. Immutable as long as the arrays
 * it was made of are not modified (nobody does: an EPR answer's bytes are read, never written);
 * thread-safe.
 */
public final class Body {
  /** The body without any bytes. */
  public static final Body EMPTY = new Body(new byte[0], null, 0);

  /** Where the pieces of a body are written, in order. */
  @FunctionalInterface
  public interface Sink {
    void write(byte[] bytes, int offset, int length);
  }

  /** Edit i replaces [starts[i], ends[i]) of the source by tokens[i]; they are applied in {@code order}. */
  private record Edits(int[] starts, int[] ends, byte[][] tokens, int[] order) {}

  private final byte[] source;
  private final @Nullable Edits edits;
  private final int length;

  private Body(byte[] source, @Nullable Edits edits, int length) {
    this.source = source;
    this.edits = edits;
    this.length = length;
  }

  /** {@code bytes} as they are (not copied: the caller must not modify them afterwards). */
  public static Body of(byte[] bytes) {
    requireNonNull(bytes, "bytes");
    return bytes.length == 0 ? EMPTY : new Body(bytes, null, bytes.length);
  }

  /**
   * {@code source} with edits that {@link JsonSplicer} checked: sorted by {@code order}, apart, inside
   * the source; {@code length} the size they give.
   */
  static Body spliced(byte[] source, int[] starts, int[] ends, byte[][] tokens, int[] order, int length) {
    return new Body(source, new Edits(starts, ends, tokens, order), length);
  }

  /** The number of bytes. */
  public int length() {
    return length;
  }

  /** Whether the body is made of edits applied to an array (written piece by piece) rather than one array. */
  public boolean isSpliced() {
    return edits != null;
  }

  /** Writes the body's bytes to {@code sink}, in order, as pieces of the arrays it was made of (no empty piece). */
  public void writeTo(Sink sink) {
    Edits e = edits;
    if (e == null) {
      if (length > 0) {
        sink.write(source, 0, length);
      }
      return;
    }
    int[] starts = e.starts();
    int[] ends = e.ends();
    byte[][] tokens = e.tokens();
    int from = 0;
    for (int i : e.order()) {
      if (starts[i] > from) {
        sink.write(source, from, starts[i] - from);
      }
      if (tokens[i].length > 0) {
        sink.write(tokens[i], 0, tokens[i].length);
      }
      from = ends[i];
    }
    if (source.length > from) {
      sink.write(source, from, source.length - from);
    }
  }

  /**
   * The bytes as one array: the array itself for a body of one array (not to be modified), a new
   * array for a spliced one.
   */
  public byte[] toArray() {
    if (edits == null) {
      return source;
    }
    byte[] out = new byte[length];
    int[] at = {0};
    writeTo((bytes, offset, n) -> {
      System.arraycopy(bytes, offset, out, at[0], n);
      at[0] += n;
    });
    return out;
  }
}
