package org.fhirwall.cli;

import java.io.PrintWriter;
import java.net.URI;
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

  static int call(LocksCommand parent, CommandSpec spec, String method, String path) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpRequest req = HttpRequest.newBuilder(parent.admin.resolve(path)).timeout(Duration.ofSeconds(10))
          .method(method, HttpRequest.BodyPublishers.noBody()).build();
      HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
      (resp.statusCode() < 300 ? out : err).println(resp.body().strip());
      out.flush();
      err.flush();
      return resp.statusCode() < 300 ? 0 : 1;
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
