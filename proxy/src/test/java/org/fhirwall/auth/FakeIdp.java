package org.fhirwall.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An identity provider for tests on 127.0.0.1 and an ephemeral port: discovery document, JWKS and
 * an RFC 7662 introspection endpoint, each counting its calls.
 */
final class FakeIdp implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  final AtomicInteger discoveryFetches = new AtomicInteger();
  final AtomicInteger jwksFetches = new AtomicInteger();
  final AtomicInteger introspections = new AtomicInteger();
  final List<String> introspectionAuthorizations = new CopyOnWriteArrayList<>();
  final List<Map<String, String>> introspectionForms = new CopyOnWriteArrayList<>();

  private final HttpServer server;
  private final String base;
  private volatile String issuer;
  private volatile String jwks = "{\"keys\":[]}";
  private volatile boolean advertiseIntrospection = true;
  private volatile Function<String, String> introspection = token -> "{\"active\":true}";
  private volatile int introspectionStatus = 200;

  private FakeIdp(HttpServer server) {
    this.server = server;
    this.base = "http://127.0.0.1:" + server.getAddress().getPort();
    this.issuer = base + "/realms/test";
  }

  static FakeIdp start(JWK... keys) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    FakeIdp idp = new FakeIdp(server);
    idp.keys(keys);
    server.createContext("/realms/test/.well-known/openid-configuration", idp::discovery);
    server.createContext("/realms/test/protocol/openid-connect/certs", ex -> {
      idp.jwksFetches.incrementAndGet();
      send(ex, 200, idp.jwks);
    });
    server.createContext("/realms/test/protocol/openid-connect/token/introspect", idp::introspect);
    server.start();
    return idp;
  }

  String issuer() {
    return issuer;
  }

  /** The issuer the discovery document names (to test a document that names another one). */
  void discoveryIssuer(String value) {
    issuer = value;
  }

  URI discoveryUrl() {
    return URI.create(base + "/realms/test/.well-known/openid-configuration");
  }

  URI jwksUri() {
    return URI.create(base + "/realms/test/protocol/openid-connect/certs");
  }

  URI introspectionUri() {
    return URI.create(base + "/realms/test/protocol/openid-connect/token/introspect");
  }

  void keys(JWK... keys) {
    List<JWK> pub = new ArrayList<>();
    for (JWK k : keys) {
      pub.add(k.toPublicJWK());
    }
    jwks = new JWKSet(pub).toString(true);
  }

  void rawJwks(String json) {
    jwks = json;
  }

  void advertiseIntrospection(boolean value) {
    advertiseIntrospection = value;
  }

  void introspection(Function<String, String> answer) {
    introspection = answer;
  }

  void introspectionStatus(int status) {
    introspectionStatus = status;
  }

  private void discovery(HttpExchange ex) throws IOException {
    discoveryFetches.incrementAndGet();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("issuer", issuer);
    doc.put("jwks_uri", jwksUri().toString());
    doc.put("authorization_endpoint", issuer + "/protocol/openid-connect/auth");
    doc.put("token_endpoint", issuer + "/protocol/openid-connect/token");
    doc.put("revocation_endpoint", issuer + "/protocol/openid-connect/revoke");
    doc.put("grant_types_supported", java.util.List.of("authorization_code", "implicit", "refresh_token", "password"));
    doc.put("code_challenge_methods_supported", java.util.List.of("plain", "S256"));
    doc.put("scopes_supported", java.util.List.of("openid", "patient/*.rs", "launch/patient"));
    if (advertiseIntrospection) {
      doc.put("introspection_endpoint", introspectionUri().toString());
    }
    send(ex, 200, JSON.writeValueAsString(doc));
  }

  private void introspect(HttpExchange ex) throws IOException {
    introspections.incrementAndGet();
    introspectionAuthorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> form = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    introspectionForms.add(form);
    send(ex, introspectionStatus, introspection.apply(form.getOrDefault("token", "")));
  }

  private static void send(HttpExchange ex, int status, String json) throws IOException {
    try {
      byte[] body = json.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(status, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } finally {
      ex.close();
    }
  }

  /** Stops answering: connections are refused from now on. */
  @Override
  public void close() {
    server.stop(0);
  }
}
