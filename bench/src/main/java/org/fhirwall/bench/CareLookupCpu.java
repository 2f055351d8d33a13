package org.fhirwall.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The CPU time (this thread's, not the wall clock) of {@link CareLookupBench}'s lookups: on a machine
 * shared with other work, wall-clock averages mostly measure waiting for a core; the CPU a lookup
 * takes is what it costs. Warms up, then times a batch of each. Run by {@code bench/care.sh --cpu}.
 */
public final class CareLookupCpu {
  private CareLookupCpu() {}

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    System.out.printf(Locale.ROOT, "%-6s %9s %14s %16s%n", "lookup", "patients", "relationships", "cpu us/lookup");
    for (int relationships : new int[] {20, 200}) {
      for (int patients : new int[] {1, 50}) {
        CareLookupBench b = new CareLookupBench();
        b.relationships = relationships;
        b.patients = patients;
        b.setUp();
        for (String kind : new String[] {"hit", "miss"}) {
          boolean hit = kind.equals("hit");
          int warm = hit ? 200_000 : 3_000;
          int timed = hit ? 500_000 : 5_000;
          Object sink = null;
          for (int i = 0; i < warm; i++) {
            sink = hit ? b.hit() : b.miss();
          }
          long start = mx.getCurrentThreadCpuTime();
          for (int i = 0; i < timed; i++) {
            sink = hit ? b.hit() : b.miss();
          }
          double us = (mx.getCurrentThreadCpuTime() - start) / 1000.0 / timed;
          System.out.printf(Locale.ROOT, "%-6s %9d %14d %16.2f%s%n", kind, patients, relationships, us,
              sink == null ? "?" : "");
        }
      }
    }
  }
}
