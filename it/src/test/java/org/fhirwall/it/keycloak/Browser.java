package org.fhirwall.it.keycloak;

import java.net.CookieHandler;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One browser for {@link KeycloakServer#browserLogin(Browser, String, String, String, String, Map)}:
 * an HTTP client that does not follow redirects and keeps Keycloak's cookies (its SSO session)
 * between the logins made with it. Obtain one from {@link KeycloakServer#newBrowser()}.
 */
public final class Browser {
  private final HttpClient client = KeycloakServer.newClient(true);

  Browser() {}

  HttpClient client() {
    return client;
  }

  /**
   * A browser's cookie jar for one loopback host. Keycloak marks its login cookies {@code Secure}
   * even on http, which browsers accept on 127.0.0.1 (a secure context) but {@code
   * java.net.CookieManager} refuses to send over http; this jar sends them, honouring path and
   * expiry.
   */
  static final class LoopbackCookies extends CookieHandler {
    private final Map<String, HttpCookie> cookies = new ConcurrentHashMap<>();

    @Override
    public Map<String, List<String>> get(URI uri, Map<String, List<String>> requestHeaders) {
      String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
      List<String> pairs = new ArrayList<>();
      cookies.values().forEach(
          cookie -> {
            String cookiePath = cookie.getPath() == null ? "/" : cookie.getPath();
            if (!cookie.hasExpired() && path.startsWith(cookiePath)) {
              pairs.add(cookie.getName() + "=" + cookie.getValue());
            }
          });
      return pairs.isEmpty() ? Map.of() : Map.of("Cookie", List.of(String.join("; ", pairs)));
    }

    @Override
    public void put(URI uri, Map<String, List<String>> responseHeaders) {
      responseHeaders.forEach(
          (name, values) -> {
            if (name != null && name.equalsIgnoreCase("Set-Cookie")) {
              for (String header : values) {
                for (HttpCookie cookie : HttpCookie.parse(header)) {
                  if (cookie.hasExpired()) {
                    cookies.remove(cookie.getName());
                  } else {
                    cookies.put(cookie.getName(), cookie);
                  }
                }
              }
            }
          });
    }
  }
}
