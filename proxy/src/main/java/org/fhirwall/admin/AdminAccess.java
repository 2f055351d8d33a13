package org.fhirwall.admin;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Who may use the operator API (locks), and from which {@code Host}. Operators hold bearer tokens
 * read from a file, one per line: {@code NAME TOKEN} (or a bare {@code TOKEN}, named
 * {@code operator}), at least 32 characters each, {@code #} comments allowed; the NAME is the
 * operator identity written in the audit record of every unlock. Tokens are kept as SHA-256
 * digests and compared in constant time. Without tokens the lock API refuses every request (fail
 * closed); health, readiness and metrics stay open.
 *
 * <p>Every request must name an allowed {@code Host} (the admin address, {@code localhost},
 * {@code 127.0.0.1}, {@code [::1]} and any configured name, with or without port): a page in an
 * operator's browser that rebinds its own DNS name to the admin address is refused, whatever it sends.
 * Immutable and thread-safe.
 */
public final class AdminAccess {
  static final int MIN_TOKEN = 32;

  private record Operator(String name, byte[] digest) {}

  private final List<Operator> operators;
  private final Set<String> hosts;

  private AdminAccess(List<Operator> operators, Set<String> hosts) {
    this.operators = List.copyOf(operators);
    this.hosts = Set.copyOf(hosts);
  }

  /**
   * @param tokenFile the operators' tokens, null when none are configured (the lock API is then closed)
   * @param hosts extra host names the admin API answers to, besides the loopback names and {@code listenHost}
   */
  public static AdminAccess of(@Nullable Path tokenFile, String listenHost, List<String> hosts) throws IOException {
    List<Operator> operators = new ArrayList<>();
    if (tokenFile != null) {
      int line = 0;
      for (String raw : Files.readAllLines(tokenFile, UTF_8)) {
        line++;
        String l = raw.strip();
        if (l.isEmpty() || l.startsWith("#")) {
          continue;
        }
        String[] parts = l.split("\\s+");
        if (parts.length > 2) {
          throw new IOException(tokenFile + ":" + line + ": expected NAME TOKEN or TOKEN, got " + parts.length + " words");
        }
        String token = parts[parts.length - 1];
        if (token.length() < MIN_TOKEN) {
          throw new IOException(tokenFile + ":" + line + ": token of " + token.length() + " characters (expected: at least "
              + MIN_TOKEN + ")");
        }
        operators.add(new Operator(parts.length == 2 ? parts[0] : "operator", sha256(token)));
      }
      if (operators.isEmpty()) {
        throw new IOException(tokenFile + ": no token (expected: one NAME TOKEN per line)");
      }
    }
    Set<String> names = new java.util.HashSet<>(Set.of("localhost", "127.0.0.1", "[::1]", "::1"));
    names.add(listenHost.toLowerCase(Locale.ROOT));
    hosts.forEach(h -> names.add(h.toLowerCase(Locale.ROOT)));
    return new AdminAccess(operators, names);
  }

  /** Whether the lock API can be used at all (some token is configured). */
  public boolean locksEnabled() {
    return !operators.isEmpty();
  }

  /** Whether {@code host} (a Host header, with or without port) names this admin API. */
  boolean hostAllowed(@Nullable String host) {
    if (host == null || host.isBlank()) {
      return false;
    }
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 0 && hosts.contains(h.substring(0, end + 1));
    }
    int colon = h.lastIndexOf(':');
    return hosts.contains(colon > 0 && h.indexOf(':') == colon ? h.substring(0, colon) : h);
  }

  /** The operator a {@code Authorization: Bearer} header authenticates, if any. */
  Optional<String> operator(@Nullable String authorization) {
    requireNonNull(operators, "operators");
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    byte[] digest = sha256(authorization.substring(7).strip());
    String found = null;
    for (Operator o : operators) {
      if (MessageDigest.isEqual(o.digest(), digest)) {
        found = o.name();
      }
    }
    return Optional.ofNullable(found);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

}
