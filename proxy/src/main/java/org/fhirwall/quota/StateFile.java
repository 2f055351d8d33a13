package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local store's memory across restarts: one small JSON file ({@code quota-state.json}) in
 * {@code quota.state-dir} holding the locks and holds in force, each account's open windows (patient ids and
 * when each was last disclosed), the shared secrets (the paging links' key) and the bindings (whose
 * bulk export a job or file is, until when). Written whole to a
 * temporary file and renamed over the old one, so a crash leaves the previous complete file;
 * readable by its owner only (it lists which patients each account has seen, like the audit log).
 * A file that cannot be read is an error at start, never silently an empty state: fhirwall would
 * forget locks.
 *
 * <p>Thread-safe: writes are serialised.
 */
public final class StateFile {
  private static final Logger LOG = LoggerFactory.getLogger(StateFile.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final int VERSION = 1;

  private final Path file;

  /** The state file inside {@code directory} (created when missing). */
  public StateFile(Path directory) {
    requireNonNull(directory, "directory");
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException("quota.state-dir " + directory + ": cannot create (" + e.getMessage() + ")", e);
    }
    this.file = directory.resolve("quota-state.json");
  }

  public Path path() {
    return file;
  }

  /** One account's disclosures under one window length: patient id → epoch millis of its last disclosure. */
  record Window(String account, Duration length, Map<String, Long> patients) {}

  /** Everything the file holds. */
  static final class Snapshot {
    final List<Lock> locks = new ArrayList<>();
    final List<Window> windows = new ArrayList<>();
    final Map<String, byte[]> secrets = new LinkedHashMap<>();
    final Map<String, LocalBindings.Binding> bindings = new LinkedHashMap<>();
    /** Accounts held after a response refused over a limit: until when (epoch ms). */
    final Map<String, Long> holds = new LinkedHashMap<>();

    void restore(LocalQuotaStore store) {
      locks.forEach(store::restoreLock);
      holds.forEach(store::restoreHold);
      windows.forEach(w -> store.restoreWindow(w.account(), w.length(), w.patients()));
      secrets.forEach(store::restoreSecret);
      bindings.forEach(store::restoreBinding);
    }
  }

  /** The state as last written; empty when there is no file yet. */
  Snapshot read() {
    Snapshot s = new Snapshot();
    try (InputStream in = Files.newInputStream(file); JsonParser p = JSON.createParser(in)) {
      expect(p.nextToken(), JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        switch (field) {
          case "version" -> {
            if (p.getIntValue() != VERSION) {
              throw new IOException("version " + p.getIntValue() + " (expected: " + VERSION + ")");
            }
          }
          case "locks" -> {
            expect(p.currentToken(), JsonToken.START_ARRAY);
            while (p.nextToken() == JsonToken.START_ARRAY) {
              String account = text(p);
              String reason = text(p);
              Instant since = Instant.ofEpochMilli(number(p));
              Instant until = Instant.ofEpochMilli(number(p));
              expect(p.nextToken(), JsonToken.END_ARRAY);
              s.locks.add(new Lock(account, reason, since, until));
            }
          }
          case "windows" -> {
            expect(p.currentToken(), JsonToken.START_ARRAY);
            while (p.nextToken() == JsonToken.START_ARRAY) {
              String account = text(p);
              Duration length = Duration.ofMillis(number(p));
              Map<String, Long> patients = new LinkedHashMap<>();
              while (p.nextToken() == JsonToken.VALUE_STRING) {
                String patient = p.getText();
                patients.put(patient, number(p));
              }
              expect(p.currentToken(), JsonToken.END_ARRAY);
              s.windows.add(new Window(account, length, patients));
            }
          }
          case "secrets" -> {
            expect(p.currentToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              s.secrets.put(name, Base64.getDecoder().decode(text(p)));
            }
          }
          case "bindings" -> {
            expect(p.currentToken(), JsonToken.START_ARRAY);
            while (p.nextToken() == JsonToken.START_ARRAY) {
              String key = text(p);
              String owner = text(p);
              long until = number(p);
              expect(p.nextToken(), JsonToken.END_ARRAY);
              s.bindings.put(key, new LocalBindings.Binding(owner, until));
            }
          }
          case "holds" -> {
            expect(p.currentToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String account = p.currentName();
              s.holds.put(account, number(p));
            }
          }
          default -> p.skipChildren();
        }
      }
    } catch (NoSuchFileException e) {
      return s;
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("quota state file " + file + " cannot be read (" + e.getMessage()
          + "); fix or move it away (it holds the locks in force) and start again", e);
    }
    LOG.info("quota state restored from {}: {} lock(s), {} open window(s)", file, s.locks.size(), s.windows.size());
    return s;
  }

  /** Replaces the file with {@code s}; a failure is logged (the previous file stays whole). */
  synchronized void write(Snapshot s) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      try {
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(tmp);
      }
      try (OutputStream out = Files.newOutputStream(tmp); JsonGenerator g = JSON.createGenerator(out)) {
        g.writeStartObject();
        g.writeNumberField("version", VERSION);
        g.writeArrayFieldStart("locks");
        for (Lock l : s.locks) {
          g.writeStartArray();
          g.writeString(l.account());
          g.writeString(l.reason());
          g.writeNumber(l.since().toEpochMilli());
          g.writeNumber(l.until().toEpochMilli());
          g.writeEndArray();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("windows");
        for (Window w : s.windows) {
          g.writeStartArray();
          g.writeString(w.account());
          g.writeNumber(w.length().toMillis());
          for (Map.Entry<String, Long> e : w.patients().entrySet()) {
            g.writeString(e.getKey());
            g.writeNumber(e.getValue());
          }
          g.writeEndArray();
        }
        g.writeEndArray();
        g.writeObjectFieldStart("secrets");
        for (Map.Entry<String, byte[]> e : s.secrets.entrySet()) {
          g.writeStringField(e.getKey(), Base64.getEncoder().encodeToString(e.getValue()));
        }
        g.writeEndObject();
        g.writeObjectFieldStart("holds");
        for (Map.Entry<String, Long> e : s.holds.entrySet()) {
          g.writeNumberField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeArrayFieldStart("bindings");
        for (Map.Entry<String, LocalBindings.Binding> e : s.bindings.entrySet()) {
          g.writeStartArray();
          g.writeString(e.getKey());
          g.writeString(e.getValue().owner());
          g.writeNumber(e.getValue().untilMillis());
          g.writeEndArray();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      LOG.error("quota state file {} could not be written: {}", file, e.toString());
    }
  }

  private static void expect(JsonToken got, JsonToken expected) throws IOException {
    if (got != expected) {
      throw new IOException(got + " (expected: " + expected + ")");
    }
  }

  private static String text(JsonParser p) throws IOException {
    expect(p.nextToken(), JsonToken.VALUE_STRING);
    return p.getText();
  }

  private static long number(JsonParser p) throws IOException {
    expect(p.nextToken(), JsonToken.VALUE_NUMBER_INT);
    return p.getLongValue();
  }
}
