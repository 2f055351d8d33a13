package org.fhirwall.it.jpa;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every request an EPR received, in arrival order: method, path with query, and the {@code X-Request-Id} fhirwall
 * forwarded. Tests read it to prove that a refused request never reached the EPR. Thread-safe.
 */
public final class EprRequestLog {
  /** One request as the EPR saw it; {@code requestId} is empty when none was sent. */
  public record Entry(String method, String target, String requestId) {}

  private final List<Entry> entries = new CopyOnWriteArrayList<>();

  void record(HttpServletRequest request) {
    String query = request.getQueryString();
    String id = request.getHeader("X-Request-Id");
    entries.add(new Entry(request.getMethod(), request.getRequestURI() + (query == null ? "" : "?" + query),
        id == null ? "" : id));
  }

  public List<Entry> entries() {
    return List.copyOf(entries);
  }

  /** Whether a request carrying this {@code X-Request-Id} reached the EPR. */
  public boolean received(String requestId) {
    return entries.stream().anyMatch(e -> e.requestId().equals(requestId));
  }
}
