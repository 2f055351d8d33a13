package org.fhirwall.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.fhirwall.audit.AuditVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fhirwall audit verify FILE...}: checks the audit trail's hash chain and signed checkpoints. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Work with the audit trail.",
    subcommands = {AuditCommand.Verify.class})
final class AuditCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * Exit codes: 0 the chain is intact; 1 a line was removed, reordered, edited or a checkpoint is not
   * signed with the key (each printed as {@code file:line: problem}); 2 a file or the key could not
   * be read.
   */
  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Check audit files (the current one and rotated ones, in any order) as one hash chain, and with "
          + "--key-file every signed checkpoint. Prints file:line: problem for each removed, reordered or edited line.",
          "Exit codes: 0 intact, 1 tampering or damage found, 2 a file or the key could not be read."})
  static final class Verify implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Audit files (e.g. audit-*.jsonl audit.jsonl).")
    List<Path> files = new ArrayList<>();

    @Option(names = "--key-file", paramLabel = "FILE", description = "The deployment's audit.checkpoint.key-file.")
    Path keyFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      AuditVerifier.Report report;
      try {
        byte[] key = keyFile == null ? null : Files.readAllBytes(keyFile);
        report = AuditVerifier.verify(files, key);
      } catch (IOException e) {
        err.println("cannot read: " + e.getMessage());
        return 2;
      }
      report.findings().forEach(err::println);
      report.notes().forEach(n -> out.println("note: " + n));
      out.printf("%s: %d records in %d file(s), last record %d, %d checkpoint(s)%s%n", report.intact() ? "intact" : "NOT INTACT",
          report.records(), files.size(), report.lastSeq(), report.checkpoints(),
          keyFile == null ? "" : ", signed up to record " + report.signedUpTo());
      return report.intact() ? 0 : 1;
    }
  }
}
