package org.fhirwall.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code fhirwall} command line. */
@Command(
    name = "fhirwall",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    subcommands = {ServeCommand.class, DemoCommand.class, ValidateCommand.class, LocksCommand.class, AuditCommand.class},
    description = "FHIR access-control proxy: MFA-only access and distinct-patient limits in front of an EPR.")
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws Exception {
      var props = new java.util.Properties();
      try (var in = Main.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          props.load(in);
        }
      }
      return new String[] {"fhirwall " + props.getProperty("version", "unknown")};
    }
  }
}
