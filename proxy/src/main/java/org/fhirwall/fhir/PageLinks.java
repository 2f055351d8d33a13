package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * fhirwall's own paging links. The EPR's next/previous links are never handed to clients: each is
 * sealed into an opaque token ({@code [base]?_fwpage=TOKEN}) that only this proxy (or a replica
 * with the same secret) can open, only for the same binding (principal and session), and only
 * until it expires. A hand-made {@code _getpages} never reaches the EPR (the parser refuses it).
 *
 * <p>Token: URL-safe base64 (no padding) of {@code version(1) | nonce(12) | AES-256-GCM(payload)},
 * the version byte authenticated as associated data. The AES key is HMAC-SHA256(secret, a fixed
 * label). Payload: expiry (epoch millis), page number, flags (bit 0: the end of the search), the
 * page size the EPR was asked for, SHA-256 of the binding, searched type, upstream target padded
 * with zero bytes to a size bucket (512, 1024 or 2048 bytes, at least the caller's hint): a token's
 * length tells nothing of its target beyond its bucket, and an end token ({@link #wrapEnd}) is as
 * long as a real one of the same bucket. Tampering with any byte makes the tag check fail.
 *
 * <p>Thread-safe: the key is immutable; each thread has its own cipher, digest and random generator.
 * {@link #open} never throws on junk input.
 */
public final class PageLinks {
  private static final byte VERSION = 2;
  private static final byte END = 1;
  /** The sizes an upstream target is padded to: a token's length tells only which of them it fits. */
  private static final int[] TARGET_BUCKETS = {512, 1024, 2048};
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final int MAX_TARGET_BYTES = 2048;
  private static final int MAX_TOKEN_CHARS = 4096;
  private static final byte[] KEY_LABEL = "fhirwall paging links v1".getBytes(StandardCharsets.US_ASCII);
  private static final Refusal INVALID = Refusal.of(403, IssueType.FORBIDDEN, "paging link not valid for this session");
  private static final Refusal EXPIRED = Refusal.of(410, IssueType.EXPIRED, "paging link expired; repeat the search");

  private final SecretKeySpec key;
  private final Duration ttl;
  /**
   * One AES-GCM cipher, one SHA-256 digest and one random generator per thread: looking them up
   * costs more than sealing a link, and the JDK's default generator on Linux (NativePRNG) is one
   * lock for the whole process — event loops sealing links at once waited on it for milliseconds.
   */
  private final ThreadLocal<SecureRandom> randoms = ThreadLocal.withInitial(PageLinks::newRandom);
  private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(PageLinks::newCipher);
  private final ThreadLocal<MessageDigest> digests = ThreadLocal.withInitial(PageLinks::newDigest);

  /** The outcome of opening a paging token. */
  public sealed interface PageOpen {
    /** The token is genuine, for this binding, and not expired. */
    record Opened(PageLink link) implements PageOpen {
      public Opened {
        requireNonNull(link, "link");
      }
    }

    /** The token is missing, garbled, tampered with, for another binding (403), or expired (410). */
    record Invalid(Refusal refusal) implements PageOpen {
      public Invalid {
        requireNonNull(refusal, "refusal");
      }
    }
  }

  /**
   * An opened paging link.
   *
   * @param upstreamTarget the EPR's own link, relative to the EPR base (what to GET upstream)
   * @param pageNumber which page this is (1 is the search itself)
   * @param searchedType the resource type of the search that produced it, null for a system search
   * @param request the PAGE request with {@code resourceType} set to {@code searchedType}
   * @param pageSize how many matches a page of this search was asked to hold, 0 when unknown
   * @param end the search has no more pages: the link leads to fhirwall's own empty page, never to the EPR
   *     (its {@code upstreamTarget} holds only what travels with it, such as the client's projection)
   */
  public record PageLink(String upstreamTarget, int pageNumber, @Nullable String searchedType, FhirRequest request,
      int pageSize, boolean end) {
    public PageLink {
      requireNonNull(upstreamTarget, "upstreamTarget");
      requireNonNull(request, "request");
    }
  }

  /**
   * @param secret at least 16 bytes; replicas that must open each other's links share it
   * @param ttl how long a link stays valid after it is made
   */
  public PageLinks(byte[] secret, Duration ttl) {
    requireNonNull(secret, "secret");
    requireNonNull(ttl, "ttl");
    if (secret.length < 16) {
      throw new IllegalArgumentException("secret: " + secret.length + " bytes (expected: >= 16)");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
    }
    this.ttl = ttl;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      this.key = new SecretKeySpec(mac.doFinal(KEY_LABEL), "AES");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 unavailable", e);
    }
  }

  /**
   * Seals an upstream paging link into a token.
   *
   * @param upstreamTarget the EPR's link relative to its base, no leading slash, at most 2048 bytes
   * @param searchedType the searched resource type, null for a system search
   * @param pageNumber the page the link leads to, at least 1
   * @param binding what the link is bound to (e.g. principal subject and session id); only a
   *     request with the same binding can open it
   * @param now the current time (the link expires at {@code now + ttl})
   * @return a URL-safe token for {@code _fwpage}
   * @throws IllegalArgumentException on a target that is absolute, too long, or a page number below 1
   */
  public String wrap(String upstreamTarget, @Nullable String searchedType, int pageNumber, String binding, Instant now) {
    return wrap(upstreamTarget, searchedType, pageNumber, 0, 0, binding, now);
  }

  /**
   * Seals an upstream paging link into a token, as {@link #wrap(String, String, int, String, Instant)}.
   *
   * @param pageSize how many matches a page of the search was asked to hold (0: unknown)
   * @param padTo a target length the token is at least as long as a token of (so the links of one
   *     answer, real or {@link #wrapEnd end} ones, fall in one size bucket); at most 2048
   */
  public String wrap(String upstreamTarget, @Nullable String searchedType, int pageNumber, int pageSize, int padTo,
      String binding, Instant now) {
    return seal(upstreamTarget, searchedType, pageNumber, pageSize, padTo, false, binding, now);
  }

  /**
   * Seals a link past the last page of a search: opened, it says {@link PageLink#end()}, and fhirwall
   * answers it with an empty page of its own. As long as a {@link #wrap real} token whose target and
   * {@code padTo} fall in the same bucket.
   *
   * @param carried what travels with the link (the client's projection query), relative, may be empty
   */
  public String wrapEnd(String carried, @Nullable String searchedType, int pageNumber, int pageSize, int padTo,
      String binding, Instant now) {
    return seal(carried, searchedType, pageNumber, pageSize, padTo, true, binding, now);
  }

  /** The size a target of {@code length} bytes is padded to (at least that of {@code padTo}). */
  static int bucket(int length, int padTo) {
    int wanted = Math.max(length, Math.min(padTo, MAX_TARGET_BYTES));
    for (int b : TARGET_BUCKETS) {
      if (wanted <= b) {
        return b;
      }
    }
    throw new IllegalArgumentException("upstreamTarget: " + length + " bytes (expected: <= " + MAX_TARGET_BYTES + ")");
  }

  private String seal(String upstreamTarget, @Nullable String searchedType, int pageNumber, int pageSize, int padTo,
      boolean end, String binding, Instant now) {
    requireNonNull(upstreamTarget, "upstreamTarget");
    requireNonNull(binding, "binding");
    requireNonNull(now, "now");
    if (upstreamTarget.startsWith("/") || upstreamTarget.contains("://")) {
      throw new IllegalArgumentException("upstreamTarget: must be relative to the EPR base");
    }
    if (pageNumber < 1) {
      throw new IllegalArgumentException("pageNumber: " + pageNumber + " (expected: >= 1)");
    }
    if (pageSize < 0) {
      throw new IllegalArgumentException("pageSize: " + pageSize + " (expected: >= 0)");
    }
    byte[] target = upstreamTarget.getBytes(StandardCharsets.UTF_8);
    if (target.length > MAX_TARGET_BYTES) {
      throw new IllegalArgumentException("upstreamTarget: " + target.length + " bytes (expected: <= " + MAX_TARGET_BYTES + ")");
    }
    byte[] type = searchedType == null ? null : searchedType.getBytes(StandardCharsets.UTF_8);
    if (type != null && type.length > 254) {
      throw new IllegalArgumentException("searchedType: too long");
    }
    int padded = bucket(target.length, padTo);
    ByteBuffer payload = ByteBuffer.allocate(8 + 4 + 1 + 4 + 32 + 1 + (type == null ? 0 : type.length) + 2 + padded);
    payload.putLong(now.plus(ttl).toEpochMilli());
    payload.putInt(pageNumber);
    payload.put(end ? END : 0);
    payload.putInt(pageSize);
    payload.put(sha256(binding));
    if (type == null) {
      payload.put((byte) 0xFF);
    } else {
      payload.put((byte) type.length).put(type);
    }
    payload.putShort((short) target.length).put(target); // the rest stays zero: the padding

    byte[] nonce = new byte[NONCE_BYTES];
    randoms.get().nextBytes(nonce);
    try {
      Cipher cipher = ciphers.get();
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(new byte[] {VERSION});
      byte[] sealed = cipher.doFinal(payload.array());
      ByteBuffer token = ByteBuffer.allocate(1 + NONCE_BYTES + sealed.length);
      token.put(VERSION).put(nonce).put(sealed);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(token.array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /**
   * Opens the token of a parsed {@link Interaction#PAGE} request for {@code binding}. Never throws
   * for junk: anything but a genuine, unexpired link of the same binding is {@link PageOpen.Invalid}.
   */
  public PageOpen open(FhirRequest pageRequest, String binding, Instant now) {
    try {
      return openChecked(pageRequest, binding, now);
    } catch (RuntimeException e) {
      return new PageOpen.Invalid(INVALID);
    }
  }

  private PageOpen openChecked(FhirRequest pageRequest, String binding, Instant now) {
    String token = pageRequest.pageToken();
    if (pageRequest.interaction() != Interaction.PAGE || token == null
        || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      return new PageOpen.Invalid(INVALID);
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      return new PageOpen.Invalid(INVALID);
    }
    if (raw.length < 1 + NONCE_BYTES + TAG_BITS / 8 || raw[0] != VERSION) {
      return new PageOpen.Invalid(INVALID);
    }
    byte[] payload;
    try {
      Cipher cipher = ciphers.get();
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 1, NONCE_BYTES));
      cipher.updateAAD(raw, 0, 1);
      payload = cipher.doFinal(raw, 1 + NONCE_BYTES, raw.length - 1 - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      return new PageOpen.Invalid(INVALID);
    }
    try {
      ByteBuffer p = ByteBuffer.wrap(payload);
      long expiry = p.getLong();
      int page = p.getInt();
      byte flags = p.get();
      int pageSize = p.getInt();
      byte[] bindingHash = new byte[32];
      p.get(bindingHash);
      int typeLength = p.get() & 0xFF;
      String type = null;
      if (typeLength != 0xFF) {
        byte[] t = new byte[typeLength];
        p.get(t);
        type = utf8(t);
      }
      byte[] target = new byte[p.getShort() & 0xFFFF];
      p.get(target);
      if (!paddedOut(p) || page < 1 || pageSize < 0 || (flags & ~END) != 0) {
        return new PageOpen.Invalid(INVALID);
      }
      if (!MessageDigest.isEqual(bindingHash, sha256(binding))) {
        return new PageOpen.Invalid(INVALID);
      }
      if (now.toEpochMilli() >= expiry) {
        return new PageOpen.Invalid(EXPIRED);
      }
      return new PageOpen.Opened(new PageLink(utf8(target), page, type, withType(pageRequest, type), pageSize,
          (flags & END) != 0));
    } catch (BufferUnderflowException | CharacterCodingException e) {
      return new PageOpen.Invalid(INVALID);
    }
  }

  /** Whether what is left of the payload is the zero padding up to a bucket. */
  private static boolean paddedOut(ByteBuffer p) {
    while (p.hasRemaining()) {
      if (p.get() != 0) {
        return false;
      }
    }
    return true;
  }

  private static FhirRequest withType(FhirRequest r, @Nullable String type) {
    return new FhirRequest(r.interaction(), r.method(), type, r.id(), r.versionId(), r.compartment(), r.operation(),
        r.conditional(), r.params(), r.ifNoneExist(), r.responseFormat(), r.pretty(), r.respondAsync(), r.pageToken(),
        r.forwardHeaders(), r.entries(), r.body());
  }

  private static String utf8(byte[] b) throws CharacterCodingException {
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(b))
        .toString();
  }

  private byte[] sha256(String s) {
    return digests.get().digest(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A generator of the thread's own (DRBG: its state is the instance's, seeded from the system's entropy). */
  private static SecureRandom newRandom() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }

  private static Cipher newCipher() {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
