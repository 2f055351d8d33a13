package org.fhirwall.it.docker;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to completion (output captured), or started in the background (output to a file). */
record Command(List<String> argv, Path workingDir, Map<String, String> environment) {

  /** What a finished command did. */
  record Result(int exit, String out, String err, List<String> argv) {
    String describe() {
      return String.join(" ", argv) + " -> exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  static Command of(Path workingDir, List<String> argv) {
    return new Command(List.copyOf(argv), workingDir, Map.of());
  }

  Command with(Map<String, String> env) {
    return new Command(argv, workingDir, Map.copyOf(env));
  }

  private ProcessBuilder builder() {
    ProcessBuilder b = new ProcessBuilder(argv).directory(workingDir.toFile());
    b.environment().putAll(environment);
    return b;
  }

  /** Runs it to the end; a command still running after {@code limitSeconds} is killed and fails the test. */
  Result run(long limitSeconds) {
    try {
      Path out = Files.createTempFile("fhirwall-it-cmd", ".out");
      Path err = Files.createTempFile("fhirwall-it-cmd", ".err");
      try {
        Process p = builder().redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          throw new AssertionError(String.join(" ", argv) + " still running after " + limitSeconds + " s");
        }
        return new Result(p.exitValue(), Files.readString(out, UTF_8), Files.readString(err, UTF_8), argv);
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Starts it in the background, standard output and error to {@code log}. */
  Process start(Path log) {
    try {
      Process p = builder().redirectErrorStream(true).redirectOutput(log.toFile()).start();
      p.getOutputStream().close();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Ends a process this test started, and its children; waits for the end. */
  static void stop(Process p) {
    List<ProcessHandle> tree = new java.util.ArrayList<>(p.descendants().toList());
    tree.add(p.toHandle());
    tree.forEach(ProcessHandle::destroy);
    for (ProcessHandle h : tree) {
      try {
        h.onExit().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
  }
}
