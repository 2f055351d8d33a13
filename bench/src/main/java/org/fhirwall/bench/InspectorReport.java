package org.fhirwall.bench;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link InspectorBench} and prints, per Bundle size and format, the inspector's and HAPI
 * FHIR's full parse's throughput in MB/s, their ratio, and the inspector's patients/s.
 * {@code java -cp bench/target/benchmarks.jar org.fhirwall.bench.InspectorReport [JMH options]}: JMH
 * command-line options (e.g. {@code -f 1 -wi 1 -i 2 -p entries=50 -rf json -rff result.json})
 * override the defaults set on {@link InspectorBench}.
 */
public final class InspectorReport {
  private InspectorReport() {}

  public static void main(String[] args) throws Exception {
    Options options = new OptionsBuilder().parent(new CommandLineOptions(args))
        .include(InspectorBench.class.getName()).build();
    Collection<RunResult> results = new Runner(options).run();
    Map<String, double[]> rows = new TreeMap<>();
    for (RunResult r : results) {
      Map<String, String> p = Map.of("entries", r.getParams().getParam("entries"), "format", r.getParams().getParam("format"));
      String key = String.format(Locale.ROOT, "%05d %s", Integer.parseInt(p.get("entries")), p.get("format"));
      double opsPerSecond = r.getPrimaryResult().getScore();
      double[] row = rows.computeIfAbsent(key, k -> new double[2]);
      row[r.getParams().getBenchmark().endsWith("inspector") ? 0 : 1] = opsPerSecond;
    }
    System.out.printf(Locale.ROOT, "%n%-8s %-6s %10s %15s %15s %8s %14s%n", "entries", "format", "bytes", "inspector MB/s",
        "HAPI parse MB/s", "ratio", "patients/s");
    for (Map.Entry<String, double[]> e : rows.entrySet()) {
      int entries = Integer.parseInt(e.getKey().substring(0, 5));
      String format = e.getKey().substring(6);
      int bytes = InspectorBench.bytes(entries, format);
      double inspector = e.getValue()[0] * bytes / 1e6;
      double hapi = e.getValue()[1] * bytes / 1e6;
      System.out.printf(Locale.ROOT, "%-8d %-6s %10d %15.1f %15.1f %7.1fx %14.0f%n", entries, format, bytes, inspector, hapi,
          inspector / hapi, e.getValue()[0] * Bundles.patients(entries));
    }
  }
}
