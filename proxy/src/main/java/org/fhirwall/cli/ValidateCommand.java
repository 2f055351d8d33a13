package org.fhirwall.cli;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.ConfigProblem;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.config.RolePolicyLoader;
import org.fhirwall.policy.PolicySet;
import org.fhirwall.policy.RolePolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fhirwall validate FILE|DIR...}: checks deployment and role policy files without starting
 * anything. A directory is read as one set of role policies (every *.yaml in it); a file is a
 * deployment file when it has a top-level {@code upstream} or {@code identity} key, a role policy
 * otherwise. A deployment file's policy directory is validated with it (and with its
 * {@code identity.non-mfa-acr}); its warnings are printed. Exit code 0 when all is valid, 1 with one
 * {@code file:line:column: key: message} per problem otherwise.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Check deployment and role policy files; print file:line:column: key: message for each problem.")
final class ValidateCommand implements Callable<Integer> {

  @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "Deployment files, role policy files, or directories of role policies.")
  List<Path> paths = new ArrayList<>();

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    RolePolicyLoader roles = new RolePolicyLoader(knownTypes());
    DeploymentLoader deployments = new DeploymentLoader(System::getenv);
    List<ConfigProblem> problems = new ArrayList<>();
    List<Path> roleFiles = new ArrayList<>();
    int checked = 0;
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        checked += validateDirectory(roles, p, out, problems);
      } else if (!Files.isRegularFile(p)) {
        problems.add(new ConfigProblem(p.toString(), "", "no such file or directory"));
      } else if (isDeploymentFile(p)) {
        checked++;
        try {
          DeploymentConfig config = deployments.load(p, DeploymentLoader.Overrides.NONE);
          out.println(p + ": deployment file OK (upstream " + config.upstream().url() + ", issuer " + config.identity().issuer() + ")");
          config.warnings().forEach(w -> out.println(p + ": warning: " + w));
          checked += validateDirectory(new RolePolicyLoader(knownTypes(), config.nonMfaAcr(), config.upstream().maxPageSize()), config.policies(), out, problems);
        } catch (ConfigException e) {
          problems.addAll(e.problems());
        }
      } else {
        roleFiles.add(p);
      }
    }
    if (!roleFiles.isEmpty()) {
      checked += roleFiles.size();
      try {
        PolicySet set = roles.loadFiles(roleFiles);
        for (RolePolicy r : set.roles()) {
          out.println(r.source() + ": role " + r.name() + " OK");
        }
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
    }
    for (ConfigProblem problem : problems) {
      err.println(problem);
    }
    err.flush();
    if (!problems.isEmpty()) {
      out.println(problems.size() + " problem(s) in " + checked + " file(s)");
      out.flush();
      return 1;
    }
    out.println("all " + checked + " file(s) valid");
    out.flush();
    return 0;
  }

  private static int validateDirectory(RolePolicyLoader roles, Path dir, PrintWriter out, List<ConfigProblem> problems) {
    try {
      PolicySet set = roles.loadDirectory(dir);
      for (RolePolicy r : set.roles()) {
        out.println(r.source() + ": role " + r.name() + " OK");
      }
      return set.roles().size();
    } catch (ConfigException e) {
      problems.addAll(e.problems());
      return 1;
    }
  }

  static boolean isDeploymentFile(Path p) {
    try (Stream<String> lines = Files.lines(p, StandardCharsets.UTF_8)) {
      return lines.anyMatch(l -> l.startsWith("upstream:") || l.startsWith("identity:"));
    } catch (IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }

  static java.util.Set<String> knownTypes() {
    return FhirContext.forR4Cached().getResourceTypes();
  }
}
