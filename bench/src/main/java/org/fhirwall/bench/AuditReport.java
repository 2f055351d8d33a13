package org.fhirwall.bench;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.fhirwall.audit.AuditEventJson;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link AuditBench} and prints, for a read and a 50-patient search, the record's bytes (as
 * written to standard output, syslog, the repository; and in the chained file), records/s for the
 * serialisation alone and for the whole trail into a chained, checkpointed file.
 * {@code java -cp bench/target/benchmarks.jar org.fhirwall.bench.AuditReport [JMH options]}.
 */
public final class AuditReport {
  private AuditReport() {}

  public static void main(String[] args) throws Exception {
    Options options = new OptionsBuilder().parent(new CommandLineOptions(args)).include(AuditBench.class.getName()).build();
    Collection<RunResult> results = new Runner(options).run();
    Map<Integer, double[]> rows = new TreeMap<>();
    for (RunResult r : results) {
      int patients = Integer.parseInt(r.getParams().getParam("patients"));
      double[] row = rows.computeIfAbsent(patients, k -> new double[2]);
      if (r.getParams().getBenchmark().endsWith("line")) {
        row[0] = r.getPrimaryResult().getScore();
      } else {
        row[1] = AuditBench.RECORDS / (r.getPrimaryResult().getScore() / 1000.0);
      }
    }
    System.out.printf(Locale.ROOT, "%n%-9s %12s %12s %16s %16s%n", "patients", "line bytes", "file bytes", "line records/s",
        "trail records/s");
    for (Map.Entry<Integer, double[]> e : rows.entrySet()) {
      int patients = e.getKey();
      System.out.printf(Locale.ROOT, "%-9d %12d %12.0f %16.0f %16.0f%n", patients,
          AuditEventJson.line(AuditBench.record(patients)).length, AuditBench.fileBytesPerRecord(patients, 2000),
          e.getValue()[0], e.getValue()[1]);
    }
  }
}
