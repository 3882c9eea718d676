package dev.anvil.cli;

import dev.anvil.runtime.tls.ClusterCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code anvil certs init|issue}: a cluster's certificate authority and its members' certificates,
 * for mutual TLS between all members (docs/security.md).
 */
@Command(
    name = "certs",
    description =
        "Certificates for the cluster's mutual TLS: a CA, and a"
            + " certificate for each node and client.",
    subcommands = {CertsCommand.Init.class, CertsCommand.Issue.class})
final class CertsCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static int days(int days) {
    if (days < 1 || days > 3650) {
      throw new UserError("--days = " + days + ": must be a whole number from 1 to 3650");
    }
    return days;
  }

  @Command(
      name = "init",
      description =
          "Create the cluster's CA in DIR (ca.p12, ca.crt,"
              + " password; 0600 files in a 0700 folder). Keep DIR offline: its key signs members.")
  static final class Init implements Callable<Integer> {
    @Option(
        names = "--dir",
        required = true,
        paramLabel = "DIR",
        description = "Folder for the CA (must not hold one yet).")
    Path dir;

    @Option(
        names = "--name",
        defaultValue = "anvil",
        description = "The cluster's name, in the" + " CA's subject (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(
        names = "--days",
        defaultValue = "1825",
        description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() {
      if (Files.exists(dir.resolve("ca.p12"))) {
        throw new UserError(
            dir
                + " already holds a CA (ca.p12): a second one would not trust"
                + " the members the first signed; give another --dir");
      }
      ClusterCa.create(name, Duration.ofDays(days(days))).save(dir);
      System.out.println(
          "CA created in "
              + dir
              + " (ca.crt is its certificate); issue member"
              + " certificates with: anvil certs issue --ca "
              + dir
              + " --name NODE --ip ADDRESS"
              + " --out FOLDER");
      return 0;
    }
  }

  @Command(
      name = "issue",
      description =
          "Issue a member certificate (a node, or a client such"
              + " as anvil train --cluster) signed by the CA: node.p12, trust.p12, password and PEM"
              + " files (tls.key, tls.crt, ca.crt) in --out, for anvil node --tls / --tls.")
  static final class Issue implements Callable<Integer> {
    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "The CA's folder.")
    Path ca;

    @Option(
        names = "--name",
        required = true,
        description = "The member's name (its" + " certificate's subject), e.g. node-1.")
    String name;

    @Option(
        names = "--ip",
        paramLabel = "ADDRESS",
        split = ",",
        description = "IP addresses the member is reached at (repeat or separate with commas).")
    List<String> ips = new ArrayList<>();

    @Option(
        names = "--dns",
        paramLabel = "NAME",
        split = ",",
        description = "DNS names the member is reached at.")
    List<String> dns = new ArrayList<>();

    @Option(
        names = "--days",
        defaultValue = "365",
        description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "DIR",
        description = "Folder for the member's files (created 0700).")
    Path out;

    @Override
    public Integer call() {
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
        throw new UserError("--name = " + name + ": 1-64 letters, digits, '.', '_' or '-'");
      }
      for (String d : dns) {
        if (!d.matches(
            "[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*"
                + "[A-Za-z0-9])?)*")) {
          throw new UserError("--dns = " + d + ": not a DNS name");
        }
      }
      ClusterCa authority;
      try {
        authority = ClusterCa.load(ca);
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage());
      }
      try {
        authority.issue(name, ips, dns, Duration.ofDays(days(days))).save(out);
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage());
      }
      System.out.println(
          "certificate for "
              + name
              + " in "
              + out
              + "; start the node with"
              + " --tls "
              + out
              + " (or set anvil.tls.directory)");
      return 0;
    }
  }
}
