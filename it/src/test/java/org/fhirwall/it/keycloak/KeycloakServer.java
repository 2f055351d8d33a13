package org.fhirwall.it.keycloak;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Keycloak ({@code bin/kc.sh start-dev}, in-memory database) on a free loopback port, with
 * the test copy of the {@code fhirwall} realm ({@link TestRealm}) imported at start, and the calls
 * tests need against it: password and client-credentials grants, a browser login (authorization
 * code with PKCE, login and OTP forms posted like a browser), introspection, and a few admin
 * operations.
 *
 * <p>The distribution comes from the {@code keycloak.home} system property (the build unpacks it
 * into {@code target/keycloak}); Keycloak runs on the JVM named by {@code keycloak.java.home}, the
 * {@code KEYCLOAK_JAVA_HOME} environment variable, or else the JVM running the tests. Its log goes
 * to {@code target/keycloak-logs}, never to the test output. {@link #close()} ends the process
 * tree it started (a JVM shutdown hook does the same if the tests never close it). Start it once
 * per test run through {@link KeycloakExtension}; a start takes 10 to 30 seconds.
 *
 * <p>Thread-safe: every call is a self-contained HTTP exchange.
 */
public final class KeycloakServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeycloakServer.class);
  private static final Duration START_TIMEOUT = Duration.ofMinutes(4);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** Where browser logins say they return; matches the clients' http://127.0.0.1/* redirect URIs. */
  private static final String REDIRECT_URI = "http://127.0.0.1/fhirwall-test/callback";
  private static final Pattern FORM_TAG = Pattern.compile("<form\\b[^>]*>", Pattern.CASE_INSENSITIVE);
  private static final Pattern ACTION = Pattern.compile("\\baction=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
  private static final Pattern NUMERIC_ENTITY = Pattern.compile("&#(x?)([0-9a-fA-F]+);");

  private final Process process;
  private final URI base;
  private final URI management;
  private final Path logFile;
  private final String adminUser;
  private final String adminPassword;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();
  private final SecureRandom random = new SecureRandom();
  private final Thread shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();

  private KeycloakServer(Process process, URI base, URI management, Path logFile, String adminUser, String adminPassword) {
    this.process = process;
    this.base = base;
    this.management = management;
    this.logFile = logFile;
    this.adminUser = adminUser;
    this.adminPassword = adminPassword;
    this.http = newClient(false);
    this.shutdownHook = new Thread(this::stopProcessTree, "keycloak-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts Keycloak from {@code keycloak.home} with the test realm built from the shipped realm
   * file, logging to {@code <target>/keycloak-logs}, and waits until the realm answers.
   */
  public static KeycloakServer start() {
    String home = System.getProperty("keycloak.home");
    if (home == null || home.isBlank()) {
      throw new IllegalStateException(
          "system property keycloak.home is not set (expected: the Keycloak distribution that"
              + " `mvn verify` unpacks into proxy/target/keycloak; run the *IT tests through failsafe)");
    }
    Path homeDir = Path.of(home).toAbsolutePath().normalize();
    // home is <target>/keycloak/keycloak-<version>; the logs go beside it in <target>/keycloak-logs.
    Path target = homeDir.getParent() != null && homeDir.getParent().getParent() != null
        ? homeDir.getParent().getParent()
        : homeDir;
    return start(homeDir, TestRealm.shippedRealmFile(), target.resolve("keycloak-logs"));
  }

  /**
   * Starts the distribution in {@code home} with the test realm made from {@code shippedRealm} and,
   * beside it as docker/compose.yaml imports them, the walkthrough's users
   * ({@code keycloak/walkthrough/fhirwall-users-0.json} next to the realm file, when present),
   * writing Keycloak's output to a file in {@code logDir}; returns once the realm's OpenID
   * configuration is served. Health endpoints are on (the management port), as in compose. Fails
   * (after stopping what it started) if Keycloak exits or is not ready within four minutes.
   */
  public static KeycloakServer start(Path home, Path shippedRealm, Path logDir) {
    Path kcSh = home.resolve("bin").resolve("kc.sh");
    if (!Files.isExecutable(kcSh)) {
      throw new IllegalStateException(
          "Keycloak launcher: " + kcSh + " (expected: an executable kc.sh; is keycloak.home right?)");
    }
    Path importDir = home.resolve("data").resolve("import");
    TestRealm.write(shippedRealm, importDir.resolve(TestRealm.REALM + "-realm.json"));
    Path walkthroughUsers = walkthroughUsersFile(shippedRealm);
    Path importedUsers = importDir.resolve(walkthroughUsers.getFileName());
    try {
      if (Files.isRegularFile(walkthroughUsers)) {
        Files.copy(walkthroughUsers, importedUsers, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.deleteIfExists(importedUsers);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("copying " + walkthroughUsers + " to " + importDir, e);
    }

    int port = freeLoopbackPort();
    int managementPort = freeLoopbackPort();
    while (managementPort == port) {
      managementPort = freeLoopbackPort();
    }
    String adminUser = "fhirwall-test-admin";
    String adminPassword = randomToken(new SecureRandom(), 24);
    Path logFile;
    Process process;
    try {
      Files.createDirectories(logDir);
      logFile = logDir.resolve("keycloak-" + Instant.now().toEpochMilli() + "-" + port + ".log");
      ProcessBuilder builder =
          new ProcessBuilder(
                  kcSh.toString(),
                  "start-dev",
                  "--http-host=127.0.0.1",
                  "--http-port=" + port,
                  "--http-management-port=" + managementPort,
                  "--health-enabled=true",
                  "--db=dev-mem",
                  "--import-realm")
              .directory(home.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile()));
      Map<String, String> env = builder.environment();
      env.put("JAVA_HOME", javaHome());
      env.put("KC_BOOTSTRAP_ADMIN_USERNAME", adminUser);
      env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", adminPassword);
      process = builder.start();
      process.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + kcSh, e);
    }
    URI base = URI.create("http://127.0.0.1:" + port);
    URI management = URI.create("http://127.0.0.1:" + managementPort);
    KeycloakServer server = new KeycloakServer(process, base, management, logFile, adminUser, adminPassword);
    try {
      server.awaitReady();
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    log.info("Keycloak ready at {} (pid {}, log {})", base, process.pid(), logFile);
    return server;
  }

  /** The realm's issuer, {@code http://127.0.0.1:<port>/realms/fhirwall}. */
  public String issuer() {
    return base + "/realms/" + TestRealm.REALM;
  }

  /** Keycloak's base URL, {@code http://127.0.0.1:<port>}. */
  public URI baseUri() {
    return base;
  }

  /** The management interface ({@code /health/ready}, {@code /health/live}), {@code http://127.0.0.1:<port>}. */
  public URI managementUri() {
    return management;
  }

  /** The walkthrough's users file that belongs with {@code shippedRealm} (docker/keycloak/walkthrough/fhirwall-users-0.json). */
  public static Path walkthroughUsersFile(Path shippedRealm) {
    return shippedRealm.toAbsolutePath().getParent().resolve("walkthrough").resolve(TestRealm.REALM + "-users-0.json");
  }

  /** The realm's JWKS URL. */
  public String jwksUri() {
    return issuer() + "/protocol/openid-connect/certs";
  }

  /** The realm's token endpoint. */
  public String tokenEndpoint() {
    return issuer() + "/protocol/openid-connect/token";
  }

  /** The realm's RFC 7662 introspection endpoint. */
  public String introspectionEndpoint() {
    return tokenEndpoint() + "/introspect";
  }

  /** The file Keycloak's output goes to. */
  public Path logFile() {
    return logFile;
  }

  /**
   * Resource-owner password grant (scope openid) for a public client; {@code totp} is sent as the
   * {@code totp} form parameter Keycloak's direct-grant OTP step reads.
   *
   * @throws KeycloakRefusal when the token endpoint does not answer 200
   */
  public TokenSet passwordGrant(String clientId, String user, String password, @Nullable String totp) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "password");
    form.put("client_id", clientId);
    form.put("username", user);
    form.put("password", password);
    form.put("scope", "openid");
    if (totp != null) {
      form.put("totp", totp);
    }
    return TokenSet.fromResponse(tokenRequest(form));
  }

  /**
   * Refresh-token grant for a public client.
   *
   * @throws KeycloakRefusal when the token endpoint does not answer 200 (e.g. the session is over)
   */
  public TokenSet refresh(String clientId, @Nullable String refreshToken) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "refresh_token");
    form.put("client_id", clientId);
    form.put("refresh_token", refreshToken == null ? "" : refreshToken);
    return TokenSet.fromResponse(tokenRequest(form));
  }

  /**
   * Client-credentials grant for a confidential client; returns the access token.
   *
   * @throws KeycloakRefusal when the token endpoint does not answer 200
   */
  public String clientCredentials(String clientId, String secret) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "client_credentials");
    form.put("client_id", clientId);
    form.put("client_secret", secret);
    return TokenSet.fromResponse(tokenRequest(form)).accessToken();
  }

  /** RFC 7662 introspection of {@code token} with a confidential client's credentials. */
  public JsonNode introspect(String token, String clientId, String secret) {
    HttpResponse<String> response =
        send(
            http,
            HttpRequest.newBuilder(URI.create(introspectionEndpoint()))
                .header("Authorization", basicAuth(clientId, secret))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(formBody(Map.of("token", token))))
                .build());
    if (response.statusCode() != 200) {
      throw refusal(response);
    }
    return readJson(response.body());
  }

  /** Browser login (see the five-argument form) with no extra authorization request parameters. */
  public TokenSet browserLogin(String clientId, String user, String password, @Nullable String totpSecret) {
    return browserLogin(clientId, user, password, totpSecret, Map.of());
  }

  /**
   * Authorization-code login as a browser does it: authorization request with PKCE (S256), the
   * login form posted with {@code user}/{@code password}, then, if Keycloak shows the OTP form, the
   * current code for {@code totpSecret} (Base32); the returned code is exchanged at the token
   * endpoint. Cookies live only for this login, so it never rides on an earlier SSO session.
   * {@code extraAuthParams} are added to the authorization request (e.g. {@code acr_values}).
   *
   * @throws KeycloakRefusal {@link KeycloakRefusal#OTP_REQUIRED} if the OTP form came and no secret
   *     was given, {@link KeycloakRefusal#LOGIN_FAILED} if a form did not lead back to the client,
   *     or the OAuth error Keycloak redirected with
   */
  public TokenSet browserLogin(
      String clientId,
      String user,
      String password,
      @Nullable String totpSecret,
      Map<String, String> extraAuthParams) {
    return browserLogin(newBrowser(), clientId, user, password, totpSecret, extraAuthParams);
  }

  /** A browser with its own cookie jar, for logins that should share an SSO session. */
  public Browser newBrowser() {
    return new Browser();
  }

  /**
   * As {@link #browserLogin(String, String, String, String, Map)}, in {@code browser}: its cookies
   * (Keycloak's SSO session) carry over from and to its other logins, so Keycloak may skip forms it
   * already saw; a form it still shows is filled in as described there.
   */
  public TokenSet browserLogin(
      Browser browser,
      String clientId,
      String user,
      String password,
      @Nullable String totpSecret,
      Map<String, String> extraAuthParams) {
    return browserLogin(browser, clientId, user, password, totpSecret, extraAuthParams, null);
  }

  /**
   * As {@link #browserLogin(String, String, String, String, Map)}, with the code exchanged under a
   * DPoP proof of {@code key} (RFC 9449 §5): Keycloak binds the access token to it ({@code cnf.jkt}).
   */
  public TokenSet dpopBrowserLogin(String clientId, String user, String password, @Nullable String totpSecret,
      org.fhirwall.demo.DpopKey key) {
    return browserLogin(newBrowser(), clientId, user, password, totpSecret, Map.of(), key);
  }

  private TokenSet browserLogin(
      Browser browser,
      String clientId,
      String user,
      String password,
      @Nullable String totpSecret,
      Map<String, String> extraAuthParams,
      org.fhirwall.demo.@Nullable DpopKey dpop) {
    HttpClient client = browser.client();
    String verifier = randomToken(random, 48);
    String state = randomToken(random, 16);
    Map<String, String> query = new LinkedHashMap<>();
    query.put("response_type", "code");
    query.put("client_id", clientId);
    query.put("redirect_uri", REDIRECT_URI);
    query.put("scope", "openid");
    query.put("state", state);
    query.put("nonce", randomToken(random, 16));
    query.put("code_challenge", s256(verifier));
    query.put("code_challenge_method", "S256");
    query.putAll(extraAuthParams);
    URI authorize = URI.create(issuer() + "/protocol/openid-connect/auth?" + formBody(query));

    Page page = browse(client, HttpRequest.newBuilder(authorize).GET().build());
    if (page.isLoginForm()) {
      page = browse(client, formPost(page, Map.of("username", user, "password", password, "credentialId", "")));
    }
    if (page.isOtpForm()) {
      if (totpSecret == null) {
        throw new KeycloakRefusal(page.status(), KeycloakRefusal.OTP_REQUIRED, page.body());
      }
      page = browse(client, formPost(page, Map.of("otp", Totp.now(totpSecret), "login", "Sign In")));
    }
    URI back = page.redirect();
    if (back == null) {
      throw new KeycloakRefusal(page.status(), KeycloakRefusal.LOGIN_FAILED, page.body());
    }
    Map<String, String> result = queryParams(back);
    String error = result.get("error");
    if (error != null) {
      throw new KeycloakRefusal(page.status(), error, back.toString());
    }
    if (!state.equals(result.get("state"))) {
      throw new IllegalStateException("state: " + result.get("state") + " (expected: " + state + ")");
    }
    String code = result.get("code");
    if (code == null) {
      throw new IllegalStateException("redirect without code: " + back);
    }
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "authorization_code");
    form.put("client_id", clientId);
    form.put("code", code);
    form.put("redirect_uri", REDIRECT_URI);
    form.put("code_verifier", verifier);
    if (dpop != null) {
      return TokenSet.fromResponse(post(URI.create(tokenEndpoint()), form,
          Map.of("DPoP", dpop.proof("POST", tokenEndpoint(), null))));
    }
    return TokenSet.fromResponse(tokenRequest(form));
  }

  /** A master-realm admin access token (short-lived: fetch one per use). */
  public String adminToken() {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "password");
    form.put("client_id", "admin-cli");
    form.put("username", adminUser);
    form.put("password", adminPassword);
    JsonNode body = post(URI.create(base + "/realms/master/protocol/openid-connect/token"), form);
    return TokenSet.fromResponse(body).accessToken();
  }

  /** Disables a user of the fhirwall realm through the admin REST API. */
  public void disableUser(String username) {
    setUserEnabled(username, false);
  }

  /** Enables or disables a user of the fhirwall realm through the admin REST API. */
  public void setUserEnabled(String username, boolean enabled) {
    String token = adminToken();
    String users = base + "/admin/realms/" + TestRealm.REALM + "/users";
    HttpResponse<String> found =
        send(
            http,
            HttpRequest.newBuilder(
                    URI.create(users + "?exact=true&username=" + URLEncoder.encode(username, UTF_8)))
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json")
                .GET()
                .build());
    if (found.statusCode() != 200) {
      throw refusal(found);
    }
    JsonNode matches = readJson(found.body());
    if (matches.size() != 1) {
      throw new IllegalStateException("user " + username + ": " + matches.size() + " matches (expected: 1)");
    }
    // PUT the whole representation back: a partial one can clear profile attributes.
    ObjectNode user = (ObjectNode) matches.get(0);
    user.put("enabled", enabled);
    HttpResponse<String> updated =
        send(
            http,
            HttpRequest.newBuilder(URI.create(users + "/" + user.path("id").asText()))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(user.toString()))
                .build());
    if (updated.statusCode() != 204) {
      throw refusal(updated);
    }
  }

  /** Stops the Keycloak process tree this server started; idempotent. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook is running or about to; stopping twice is harmless
    }
    stopProcessTree();
  }

  private void stopProcessTree() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Snapshot the tree first: once kc.sh exits, its java child is no longer its descendant.
    ProcessHandle root = process.toHandle();
    List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
    tree.add(root);
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    for (ProcessHandle handle : tree) {
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        handle.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        log.warn("Keycloak process {} did not stop in {}; killing it", handle.pid(), STOP_TIMEOUT);
        handle.destroyForcibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        handle.destroyForcibly();
      }
    }
  }

  private void awaitReady() {
    URI wellKnown = URI.create(issuer() + "/.well-known/openid-configuration");
    HttpRequest probe = HttpRequest.newBuilder(wellKnown).timeout(Duration.ofSeconds(2)).GET().build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "Keycloak exited with " + process.exitValue() + " before it was ready; log " + logFile
                + ":\n" + logTail());
      }
      try {
        HttpResponse<String> response = http.send(probe, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for Keycloak", e);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for Keycloak", e);
      }
    }
    throw new IllegalStateException(
        "Keycloak not ready at " + wellKnown + " after " + START_TIMEOUT + "; log " + logFile + ":\n" + logTail());
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(logFile, UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  private JsonNode tokenRequest(Map<String, String> form) {
    return post(URI.create(tokenEndpoint()), form);
  }

  private JsonNode post(URI uri, Map<String, String> form) {
    return post(uri, form, Map.of());
  }

  private JsonNode post(URI uri, Map<String, String> form, Map<String, String> headers) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(formBody(form)));
    headers.forEach(request::header);
    HttpResponse<String> response = send(http, request.build());
    if (response.statusCode() != 200) {
      throw refusal(response);
    }
    return readJson(response.body());
  }

  private KeycloakRefusal refusal(HttpResponse<String> response) {
    String error = "http_" + response.statusCode();
    try {
      JsonNode body = json.readTree(response.body());
      if (body != null && body.hasNonNull("error")) {
        error = body.get("error").asText();
      }
    } catch (IOException notJson) {
      // keep the status as the error
    }
    return new KeycloakRefusal(response.statusCode(), error, response.body());
  }

  /** Follows Keycloak's own redirects; stops at a page, or at the redirect back to the client. */
  private Page browse(HttpClient browser, HttpRequest first) {
    HttpRequest request = first;
    for (int hops = 0; hops < 10; hops++) {
      HttpResponse<String> response = send(browser, request);
      int status = response.statusCode();
      if (status < 300 || status >= 400) {
        return new Page(status, response.uri(), response.body(), null);
      }
      String location = response.headers().firstValue("Location")
          .orElseThrow(() -> new IllegalStateException("HTTP " + status + " without Location"));
      URI next = response.uri().resolve(location);
      if (next.toString().startsWith(REDIRECT_URI)) {
        return new Page(status, response.uri(), response.body(), next);
      }
      request = HttpRequest.newBuilder(next).GET().build();
    }
    throw new IllegalStateException("more than 10 redirects from " + first.uri());
  }

  private HttpRequest formPost(Page page, Map<String, String> fields) {
    Matcher form = FORM_TAG.matcher(page.body());
    while (form.find()) {
      Matcher action = ACTION.matcher(form.group());
      if (action.find()) {
        URI target = page.uri().resolve(unescapeHtml(action.group(1)));
        return HttpRequest.newBuilder(target)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(formBody(fields)))
            .build();
      }
    }
    throw new IllegalStateException("no <form action> on the page from " + page.uri() + ":\n" + page.body());
  }

  private HttpResponse<String> send(HttpClient client, HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + request.method() + " " + request.uri(), e);
    }
  }

  private JsonNode readJson(String body) {
    try {
      return json.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + body, e);
    }
  }

  static HttpClient newClient(boolean withCookies) {
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(REQUEST_TIMEOUT);
    if (withCookies) {
      builder.cookieHandler(new Browser.LoopbackCookies());
    }
    return builder.build();
  }

  private static String javaHome() {
    String configured = System.getProperty("keycloak.java.home");
    if (configured == null || configured.isBlank()) {
      configured = System.getenv("KEYCLOAK_JAVA_HOME");
    }
    if (configured == null || configured.isBlank()) {
      configured = System.getProperty("java.home");
    }
    return requireNonNull(configured, "java.home");
  }

  private static int freeLoopbackPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  private static String randomToken(SecureRandom random, int bytes) {
    byte[] raw = new byte[bytes];
    random.nextBytes(raw);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  private static String s256(String verifier) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  private static String basicAuth(String clientId, String secret) {
    String pair = URLEncoder.encode(clientId, UTF_8) + ":" + URLEncoder.encode(secret, UTF_8);
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(UTF_8));
  }

  private static String formBody(Map<String, String> fields) {
    StringBuilder body = new StringBuilder();
    fields.forEach(
        (name, value) -> {
          if (body.length() > 0) {
            body.append('&');
          }
          body.append(URLEncoder.encode(name, UTF_8)).append('=').append(URLEncoder.encode(value, UTF_8));
        });
    return body.toString();
  }

  private static Map<String, String> queryParams(URI uri) {
    Map<String, String> params = new LinkedHashMap<>();
    String query = uri.getRawQuery();
    if (query == null) {
      return params;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      params.putIfAbsent(
          URLDecoder.decode(name, UTF_8), URLDecoder.decode(value, UTF_8));
    }
    return params;
  }

  private static String unescapeHtml(String text) {
    Matcher numeric = NUMERIC_ENTITY.matcher(text);
    StringBuilder out = new StringBuilder();
    while (numeric.find()) {
      int codePoint = Integer.parseInt(numeric.group(2), numeric.group(1).isEmpty() ? 10 : 16);
      numeric.appendReplacement(out, Matcher.quoteReplacement(new String(Character.toChars(codePoint))));
    }
    numeric.appendTail(out);
    return out.toString()
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
  }

  /** One response of a browser login: a page, or the redirect back to the client. */
  private record Page(int status, URI uri, String body, @Nullable URI redirect) {
    boolean isLoginForm() {
      return redirect == null && body.contains("name=\"password\"");
    }

    boolean isOtpForm() {
      return redirect == null && body.contains("name=\"otp\"");
    }
  }
}
