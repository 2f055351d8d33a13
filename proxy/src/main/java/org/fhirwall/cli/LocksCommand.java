package org.fhirwall.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fhirwall locks list|unlock}: the operator's view of locked accounts, through the admin API. */
@Command(name = "locks", mixinStandardHelpOptions = true,
    description = "List or lift account locks on a running fhirwall (through its admin port).",
    subcommands = {LocksCommand.ListLocks.class, LocksCommand.Unlock.class})
final class LocksCommand {

  @Option(names = "--admin", defaultValue = "http://127.0.0.1:9091", description = "The admin API's URL (default: ${DEFAULT-VALUE}).")
  URI admin;

  @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:FHIRWALL_ADMIN_TOKEN_FILE}",
      description = "A file holding your operator token (NAME TOKEN, as in admin.token-file); default $FHIRWALL_ADMIN_TOKEN_FILE.")
  Path tokenFile;

  /** The operator's token: the last word of the first line that is not a comment. */
  static String token(Path file) throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String l = line.strip();
      if (!l.isEmpty() && !l.startsWith("#")) {
        String[] words = l.split("\\s+");
        return words[words.length - 1];
      }
    }
    throw new java.io.IOException(file + ": no token");
  }

  static int call(LocksCommand parent, CommandSpec spec, String method, String path) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpRequest.Builder req = HttpRequest.newBuilder(parent.admin.resolve(path)).timeout(Duration.ofSeconds(10))
          .method(method, HttpRequest.BodyPublishers.noBody());
      if (parent.tokenFile != null) {
        req.header("Authorization", "Bearer " + token(parent.tokenFile));
      }
      HttpResponse<String> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
      (resp.statusCode() < 300 ? out : err).println(resp.body().strip());
      out.flush();
      err.flush();
      return resp.statusCode() < 300 ? 0 : 1;
    } catch (java.nio.file.NoSuchFileException e) {
      err.println("cannot read the token file " + e.getFile());
      err.flush();
      return 2;
    } catch (java.io.IOException e) {
      err.println("cannot reach the admin API at " + parent.admin + ": " + e.getMessage());
      err.flush();
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 2;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Print the accounts locked now (JSON).")
  static final class ListLocks implements Callable<Integer> {
    @ParentCommand
    LocksCommand parent;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      return LocksCommand.call(parent, spec, "GET", "/locks");
    }
  }

  @Command(name = "unlock", mixinStandardHelpOptions = true, description = "Lift the lock of one account.")
  static final class Unlock implements Callable<Integer> {
    @ParentCommand
    LocksCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ACCOUNT", description = "The account key as listed (issuer|subject).")
    String account;

    @Override
    public Integer call() {
      return LocksCommand.call(parent, spec, "DELETE", "/locks/" + URLEncoder.encode(account, StandardCharsets.UTF_8));
    }
  }
}
