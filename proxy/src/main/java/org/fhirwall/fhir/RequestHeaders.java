package org.fhirwall.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The header rules of {@link RequestParser}: framing checks, refused headers, and the short list of
 * headers that survive (everything else is dropped: hop-by-hop, {@code Authorization}, {@code Cookie},
 * {@code Accept-Encoding}, client {@code Forwarded}/{@code X-Forwarded-*}, {@code Content-Location}, ...).
 * Stateless.
 */
final class RequestHeaders {
  private static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
  private static final int MAX_VALUE = 1024;
  private static final int MAX_TRACESTATE = 512;
  private static final int MAX_REQUEST_ID = 200;

  static final String FORM = "application/x-www-form-urlencoded";
  static final String JSON_PATCH = "application/json-patch+json";

  /** What the parser needs from the headers; all values already checked. */
  record Info(
      @Nullable Format accept,
      @Nullable String preferReturn,
      boolean respondAsync,
      @Nullable String ifMatch,
      @Nullable String ifNoneMatch,
      @Nullable String ifModifiedSince,
      @Nullable String ifNoneExist,
      @Nullable String traceparent,
      @Nullable String tracestate,
      @Nullable String requestId,
      @Nullable String contentType,
      @Nullable String contentEncoding) {

    static Info forEntry(@Nullable String ifMatch, @Nullable String ifNoneMatch, @Nullable String ifModifiedSince,
        @Nullable String ifNoneExist, @Nullable String contentType) {
      return new Info(null, null, false, ifMatch, ifNoneMatch, ifModifiedSince, ifNoneExist, null, null, null,
          contentType, null);
    }
  }

  private RequestHeaders() {}

  /**
   * Refuses headers that are malformed or switch the server's behaviour: header names that are not
   * tokens, control characters in values, method overrides, {@code Upgrade} (other than an
   * {@code h2c} offer, which is declined). Framing (Host, Content-Length, Transfer-Encoding) is
   * checked once, at the edge, before a request reaches the stages.
   */
  static void checkHeaders(RawRequest raw) {
    for (RawRequest.Header h : raw.headers()) {
      String name = h.name();
      if (name.isEmpty() || !isToken(name)) {
        throw new Refused(Refusal.badFraming("Malformed header name"));
      }
      String lower = name.toLowerCase(Locale.ROOT);
      if (!lower.equals("authorization")) {
        // the token was read by the auth stage already (strictly), and is never forwarded
        checkValueChars(h.value());
      }
      switch (lower) {
        case "x-http-method-override", "x-method-override", "x-http-method" ->
            throw Refused.invalid("Method override headers (" + name + ") are refused; send the real method");
        case "upgrade" -> {
          // An HTTP/2 cleartext upgrade offer (Java's HttpClient sends one by default) is declined by
          // answering in HTTP/1.1, as RFC 9113 allows; the header is never forwarded. Any other
          // protocol switch (websocket, ...) is refused.
          if (!h.value().trim().equalsIgnoreCase("h2c")) {
            throw Refused.invalid("Protocol upgrades (Upgrade header) are refused");
          }
        }
        default -> { }
      }
    }
  }

  private static boolean isToken(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static void checkValueChars(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        throw new Refused(Refusal.badFraming("Control characters in a header value"));
      }
      if ((c < 0x20 && c != '\t') || c >= 0x7F) {
        throw Refused.invalid("Header values must be printable ASCII");
      }
    }
  }

  /** Reads the headers the parser uses. {@link #checkHeaders} must have passed. */
  static Info read(RawRequest raw) {
    List<String> accept = raw.all("Accept");
    Format acceptFormat = accept.isEmpty() ? null : acceptFormat(String.join(",", accept));

    String preferReturn = null;
    boolean async = false;
    for (String line : raw.all("Prefer")) {
      for (String token : line.split(",")) {
        String pref = token.trim();
        int semi = pref.indexOf(';');
        if (semi >= 0) {
          pref = pref.substring(0, semi).trim();
        }
        if (pref.isEmpty()) {
          continue;
        }
        int eq = pref.indexOf('=');
        String key = (eq < 0 ? pref : pref.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
        String value = eq < 0 ? "" : unquote(pref.substring(eq + 1).trim());
        switch (key) {
          case "respond-async" -> async = true;
          case "handling" -> {
            if (value.equalsIgnoreCase("lenient")) {
              throw Refused.invalid("Prefer: handling=lenient is refused (unknown search parameters must not be ignored)");
            }
          }
          case "return" -> {
            String r = returnValue(value);
            if (r != null) {
              if (preferReturn != null && !preferReturn.equals(r)) {
                throw Refused.invalid("Conflicting Prefer: return values");
              }
              preferReturn = r;
            }
          }
          default -> { }
        }
      }
    }
    String ifNoneExist = single(raw, "If-None-Exist", Integer.MAX_VALUE);
    String traceparent = single(raw, "traceparent", MAX_VALUE);
    if (traceparent != null && !TRACEPARENT.matcher(traceparent).matches()) {
      traceparent = null;
    }
    List<String> states = raw.all("tracestate");
    String tracestate = states.isEmpty() ? null : String.join(",", states).trim();
    if (tracestate != null && (tracestate.isEmpty() || tracestate.length() > MAX_TRACESTATE)) {
      tracestate = null;
    }
    String requestId = single(raw, "X-Request-Id", MAX_VALUE);
    if (requestId != null && (requestId.isEmpty() || requestId.length() > MAX_REQUEST_ID || requestId.indexOf(' ') >= 0)) {
      requestId = null;
    }
    return new Info(acceptFormat, preferReturn, async,
        single(raw, "If-Match", MAX_VALUE),
        single(raw, "If-None-Match", MAX_VALUE),
        single(raw, "If-Modified-Since", MAX_VALUE),
        ifNoneExist, traceparent, tracestate, requestId,
        single(raw, "Content-Type", MAX_VALUE),
        single(raw, "Content-Encoding", MAX_VALUE));
  }

  private static @Nullable String single(RawRequest raw, String name, int maxLength) {
    List<String> values = raw.all(name);
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw Refused.invalid("More than one " + name + " header");
    }
    String v = values.get(0).trim();
    if (v.length() > maxLength) {
      throw Refused.of(400, IssueType.TOO_LONG, name + " header longer than " + maxLength + " characters");
    }
    return v.isEmpty() ? null : v;
  }

  private static String unquote(String v) {
    return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
  }

  private static @Nullable String returnValue(String v) {
    if (v.equalsIgnoreCase("minimal")) {
      return "minimal";
    }
    if (v.equalsIgnoreCase("representation")) {
      return "representation";
    }
    if (v.equalsIgnoreCase("OperationOutcome")) {
      return "OperationOutcome";
    }
    return null;
  }

  /**
   * The format a media type or {@code _format} value names, or null. Parameters after {@code ;}
   * are ignored; a space stands for {@code +} (a {@code +} in an unencoded query arrives as a space).
   */
  static @Nullable Format formatOf(String mediaType) {
    String m = mediaType;
    int semi = m.indexOf(';');
    if (semi >= 0) {
      m = m.substring(0, semi);
    }
    m = m.trim().replace(' ', '+').toLowerCase(Locale.ROOT);
    return switch (m) {
      case "json", "application/json", "application/fhir+json", "application/json+fhir" -> Format.JSON;
      case "xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir" -> Format.XML;
      case "ndjson", "application/ndjson", "application/fhir+ndjson", "application/x-ndjson" -> Format.NDJSON;
      default -> null;
    };
  }

  /** The best format an Accept header allows (highest q, first on ties); {@code *}{@code /*} means JSON; null if none is named. */
  static @Nullable Format acceptFormat(String accept) {
    Format best = null;
    double bestQ = 0;
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String type = parts[0].trim().toLowerCase(Locale.ROOT);
      double q = 1;
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].trim();
        if (p.startsWith("q=") || p.startsWith("Q=")) {
          try {
            q = Double.parseDouble(p.substring(2).trim());
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      Format f = type.equals("*/*") || type.equals("application/*") ? Format.JSON : formatOf(type);
      if (f != null && q > bestQ) {
        best = f;
        bestQ = q;
      }
    }
    return best;
  }

  /**
   * The headers that survive, in a fixed order with canonical names: Content-Type (the canonical
   * one of the forwarded body), If-Match, If-None-Match, If-Modified-Since, If-None-Exist (canonical
   * re-encoding), Prefer (return only), traceparent, tracestate, X-Request-Id.
   */
  static List<RawRequest.Header> forward(Info info, @Nullable String contentType, List<QueryParam> ifNoneExist) {
    List<RawRequest.Header> out = new ArrayList<>(4);
    add(out, "Content-Type", contentType);
    add(out, "If-Match", info.ifMatch());
    // If-None-Match and If-Modified-Since stay behind: a "304 Not Modified" would tell that a record
    // exists, unchanged, without showing it (so without its patients being charged). The EPR always
    // answers in full; a client that asked conditionally gets a 200, which HTTP allows.
    if (!ifNoneExist.isEmpty()) {
      out.add(new RawRequest.Header("If-None-Exist", QueryCodec.encode(ifNoneExist)));
    }
    add(out, "Prefer", info.preferReturn() == null ? null : "return=" + info.preferReturn());
    add(out, "traceparent", info.traceparent());
    add(out, "tracestate", info.tracestate());
    add(out, "X-Request-Id", info.requestId());
    return out;
  }

  private static void add(List<RawRequest.Header> out, String name, @Nullable String value) {
    if (value != null) {
      out.add(new RawRequest.Header(name, value));
    }
  }
}
