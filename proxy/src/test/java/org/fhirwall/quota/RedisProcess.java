package org.fhirwall.quota;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A Redis server of a test's own, on a free loopback port, never the machine's shared one: the
 * {@code redis-server} on {@code PATH} when there is one, else the Redis 7.0 binary inside the
 * {@code org.signal:embedded-redis} jar (extracted to a temporary directory), so a machine with
 * only Java and Maven runs the suite. Stopped by its process id ({@link #close()}, and a shutdown
 * hook whatever happens); killed and restarted on the same port by the fault tests. Persistence
 * off: a restart starts empty unless {@code appendonly} is asked for.
 */
public final class RedisProcess implements AutoCloseable {
  private static final Duration READY_WITHIN = Duration.ofSeconds(20);

  private final Path dir;
  private final int port;
  private final List<String> extra;
  private Process process;

  private RedisProcess(Path dir, int port, List<String> extra) {
    this.dir = dir;
    this.port = port;
    this.extra = extra;
  }

  /** Starts a Redis on a free loopback port. {@code extra}: more {@code --option value} arguments. */
  public static RedisProcess start(String... extra) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("fhirwall-redis");
    RedisProcess r = new RedisProcess(dir, freePort(), List.of(extra));
    r.launch();
    return r;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process != null && process.isAlive();
  }

  /** Kills the server by its process id (SIGKILL: no shutdown, no save) and waits until it is gone. */
  public void kill() throws InterruptedException {
    if (process != null) {
      ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
      process.waitFor();
    }
  }

  /** Starts the server again on the same port (after {@link #kill()}). */
  public void restart() throws IOException, InterruptedException {
    kill();
    launch();
  }

  /**
   * A Redis Cluster of {@code nodes} primaries of the test's own (no replicas), its slots spread
   * evenly, once every node says {@code cluster_state:ok}. Close each node.
   */
  public static List<RedisProcess> cluster(int nodes) throws IOException, InterruptedException {
    List<RedisProcess> all = new ArrayList<>();
    try {
      for (int i = 0; i < nodes; i++) {
        all.add(start("--cluster-enabled", "yes", "--cluster-node-timeout", "2000"));
      }
      int per = 16384 / nodes;
      for (int i = 0; i < nodes; i++) {
        int from = i * per;
        int to = i == nodes - 1 ? 16383 : from + per - 1;
        all.get(i).command("CLUSTER", "ADDSLOTSRANGE", Integer.toString(from), Integer.toString(to));
        if (i > 0) {
          all.get(0).command("CLUSTER", "MEET", "127.0.0.1", Integer.toString(all.get(i).port()));
        }
      }
      long deadline = System.nanoTime() + READY_WITHIN.toNanos();
      for (RedisProcess r : all) {
        while (!r.bulk("CLUSTER", "INFO").contains("cluster_state:ok")) {
          if (System.nanoTime() > deadline) {
            throw new IOException("the test cluster did not become ok");
          }
          Thread.sleep(50);
        }
      }
      return all;
    } catch (IOException | InterruptedException | RuntimeException e) {
      for (RedisProcess r : all) {
        r.close();
      }
      throw e;
    }
  }

  /** Sends one command whose reply is a bulk string, and returns it. */
  public String bulk(String... args) throws IOException {
    return send(true, args);
  }

  /** Sends one command on a fresh connection and returns the raw reply's first line (e.g. {@code +OK}). */
  public String command(String... args) throws IOException {
    return send(false, args);
  }

  private String send(boolean bulk, String... args) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      StringBuilder b = new StringBuilder("*" + args.length + "\r\n");
      for (String a : args) {
        b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
      }
      out.write(b.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        if (c != '\r') {
          line.append((char) c);
        }
      }
      if (bulk && line.length() > 0 && line.charAt(0) == '$') {
        int n = Integer.parseInt(line.substring(1));
        return n < 0 ? "" : new String(in.readNBytes(n), StandardCharsets.UTF_8);
      }
      return line.toString();
    }
  }

  /**
   * Makes the server sleep for {@code seconds} (DEBUG SLEEP, allowed for local connections only),
   * on a thread of its own; returns at once.
   */
  public Thread sleep(double seconds) {
    Thread t = new Thread(() -> {
      try {
        command("DEBUG", "SLEEP", Double.toString(seconds));
      } catch (IOException e) {
        // the server was killed meanwhile
      }
    }, "redis-debug-sleep");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * A Sentinel of the test's own watching the primary on {@code primaryPort} as {@code mymaster}
   * (quorum 1, down after 1 s), so that killing the primary promotes its replica within seconds.
   */
  public static RedisProcess sentinel(int primaryPort) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("fhirwall-sentinel");
    int port = freePort();
    Files.writeString(dir.resolve("sentinel.conf"), """
        port %d
        bind 127.0.0.1
        sentinel monitor mymaster 127.0.0.1 %d 1
        sentinel down-after-milliseconds mymaster 1000
        sentinel failover-timeout mymaster 5000
        sentinel parallel-syncs mymaster 1
        """.formatted(port, primaryPort));
    RedisProcess r = new RedisProcess(dir, port, List.of(SENTINEL));
    r.launch();
    return r;
  }

  private static final String SENTINEL = "--sentinel";

  private void launch() throws IOException, InterruptedException {
    List<String> cmd;
    if (extra.equals(List.of(SENTINEL))) {
      cmd = new ArrayList<>(List.of(binary().toString(), dir.resolve("sentinel.conf").toString(), SENTINEL,
          "--logfile", dir.resolve("redis.log").toString()));
    } else {
      cmd = new ArrayList<>(List.of(binary().toString(), "--port", Integer.toString(port),
          "--bind", "127.0.0.1", "--protected-mode", "yes", "--save", "", "--appendonly", "no",
          "--dir", dir.toString(), "--enable-debug-command", "local", "--logfile", dir.resolve("redis.log").toString()));
      cmd.addAll(extra);
    }
    process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
    Process p = process;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly)));
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    while (true) {
      try {
        if (command("PING").equals("+PONG")) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        String log = Files.exists(dir.resolve("redis.out")) ? Files.readString(dir.resolve("redis.out")) : "";
        kill();
        throw new IOException("redis-server did not start on port " + port + ": " + log);
      }
      Thread.sleep(20);
    }
  }

  /** {@code redis-server} on PATH, else the binary shipped in the embedded-redis jar. */
  static synchronized Path binary() throws IOException {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d.isEmpty() ? "." : d, "redis-server");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("mac") ? "darwin" : "linux";
    String name = "redis-server-7.0.15-" + os + "-" + (arch.contains("aarch64") || arch.contains("arm64") ? "arm64" : "amd64");
    Path target = Path.of(System.getProperty("java.io.tmpdir"), "fhirwall-" + name);
    if (!Files.isExecutable(target)) {
      try (InputStream in = RedisProcess.class.getClassLoader().getResourceAsStream(name)) {
        if (in == null) {
          throw new IOException("no redis-server on PATH and no " + name + " in the embedded-redis jar");
        }
        Path tmp = Files.createTempFile("redis-server", ".part");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        tmp.toFile().setExecutable(true);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    return target;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    kill();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind
    }
  }
}
