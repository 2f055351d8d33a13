package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

/**
 * The names of a {@link RedisQuotaStore}'s keys, all under {@code prefix}. An account's keys share
 * its hash slot through the hash tag <code>{issuer|subject}</code> ({@code {}, {@code }} and
 * {@code %} percent-escaped), so each script touches one slot and works on Redis Cluster.
 */
record RedisKeys(String prefix) {
  RedisKeys {
    requireNonNull(prefix, "prefix");
  }

  String key(String account, String suffix) {
    StringBuilder b = new StringBuilder(prefix.length() + account.length() + suffix.length() + 8);
    b.append(prefix).append('{');
    for (int i = 0; i < account.length(); i++) {
      char c = account.charAt(i);
      switch (c) {
        case '{' -> b.append("%7B");
        case '}' -> b.append("%7D");
        case '%' -> b.append("%25");
        default -> b.append(c);
      }
    }
    return b.append("}:").append(suffix).toString();
  }

  String lockIndex() {
    return prefix + "locks";
  }
}
