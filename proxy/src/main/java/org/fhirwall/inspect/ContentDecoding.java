package org.fhirwall.inspect;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import org.jspecify.annotations.Nullable;

/**
 * Undoes a {@code Content-Encoding} (gzip, deflate, identity, or a list of them), never producing
 * more than a given number of bytes: a body that would decode to more, a zip bomb included, is
 * unreadable. Stateless and thread-safe.
 */
final class ContentDecoding {
  private ContentDecoding() {}

  /** The decoded bytes; {@code body} itself when nothing had to be undone. */
  static byte[] decode(byte[] body, @Nullable String contentEncoding, long maxBytes) throws UnreadableException {
    byte[] bytes = body;
    if (contentEncoding != null && !contentEncoding.isBlank()) {
      String[] codings = contentEncoding.split(",");
      // Codings are listed in the order they were applied: undo them from the last.
      for (int i = codings.length - 1; i >= 0; i--) {
        String coding = codings[i].trim().toLowerCase(Locale.ROOT);
        switch (coding) {
          case "identity", "" -> { }
          case "gzip", "x-gzip" -> bytes = gunzip(bytes, maxBytes);
          case "deflate" -> bytes = inflate(bytes, maxBytes);
          default -> throw new UnreadableException("unsupported Content-Encoding '" + printable(coding) + "'");
        }
      }
    }
    if (bytes.length > maxBytes) {
      throw new UnreadableException("body larger than " + maxBytes + " bytes");
    }
    return bytes;
  }

  private static byte[] gunzip(byte[] bytes, long maxBytes) throws UnreadableException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes), 8192)) {
      return readBounded(in, maxBytes);
    } catch (IOException e) {
      throw new UnreadableException("gzip body is corrupt or truncated");
    }
  }

  private static byte[] inflate(byte[] bytes, long maxBytes) throws UnreadableException {
    // HTTP "deflate" is zlib-wrapped; some servers send a raw deflate stream anyway.
    boolean zlib = bytes.length >= 2 && (bytes[0] & 0x0F) == 8 && (((bytes[0] & 0xFF) << 8) | (bytes[1] & 0xFF)) % 31 == 0;
    Inflater inflater = new Inflater(!zlib);
    try {
      inflater.setInput(bytes);
      Output out = new Output(maxBytes);
      byte[] chunk = new byte[8192];
      while (!inflater.finished()) {
        int n = inflater.inflate(chunk);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new UnreadableException("deflate body is truncated");
        }
        out.write(chunk, n);
      }
      return out.toArray();
    } catch (DataFormatException e) {
      throw new UnreadableException("deflate body is corrupt");
    } finally {
      inflater.end();
    }
  }

  private static byte[] readBounded(InputStream in, long maxBytes) throws IOException, UnreadableException {
    Output out = new Output(maxBytes);
    byte[] chunk = new byte[8192];
    int n;
    while ((n = in.read(chunk)) > 0) {
      out.write(chunk, n);
    }
    return out.toArray();
  }

  private static String printable(String coding) {
    String s = coding.length() > 32 ? coding.substring(0, 32) : coding;
    return s.replaceAll("[^a-z0-9._-]", "?");
  }

  /** A growing buffer that refuses to pass its limit. */
  private static final class Output {
    private final long max;
    private byte[] buf = new byte[16384];
    private int size;

    Output(long max) {
      this.max = max;
    }

    void write(byte[] chunk, int n) throws UnreadableException {
      if (size + (long) n > max) {
        throw new UnreadableException("decoded body larger than " + max + " bytes");
      }
      if (size + n > buf.length) {
        buf = Arrays.copyOf(buf, (int) Math.min(max, Math.max((long) buf.length * 2, size + (long) n)));
      }
      System.arraycopy(chunk, 0, buf, size, n);
      size += n;
    }

    byte[] toArray() {
      return Arrays.copyOf(buf, size);
    }
  }
}
