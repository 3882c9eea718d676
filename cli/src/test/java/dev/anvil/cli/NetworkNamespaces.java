package dev.anvil.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hosts for a test on one machine: network namespaces {@code anvil-mh-PID-1..n}, each with loopback
 * up and address {@code 10.77.0.i/24} on a veth whose other end is in a bridge of a namespace
 * {@code anvil-mh-PID-br}. Nothing is added to the machine's own (root) namespace, so the subnet
 * cannot clash with its routes, and traffic to 10.77.0.0/24 never leaves the test's namespaces.
 * {@link #close()} deletes them; {@link #create} first removes namespaces of this prefix left by a
 * JVM that no longer runs (killed before its cleanup), with their processes.
 */
final class NetworkNamespaces implements AutoCloseable {
  static final String PREFIX = "anvil-mh-";
  private static final Pattern OURS = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-\\S+");
  private static final List<Path> IP =
      List.of(
          Path.of("/usr/sbin/ip"), Path.of("/sbin/ip"), Path.of("/usr/bin/ip"), Path.of("/bin/ip"));

  private final String ip;
  private final String name;
  private final List<String> created = new ArrayList<>();

  private NetworkNamespaces(String ip, String name) {
    this.ip = ip;
    this.name = name;
  }

  /**
   * Creates {@code hosts} namespaces joined by a bridge; throws {@link Unavailable} saying why when
   * this machine cannot (no iproute2, not root, no namespace support), having removed whatever it
   * had made.
   */
  static NetworkNamespaces create(int hosts) throws Unavailable {
    String ip =
        IP.stream()
            .filter(Files::isExecutable)
            .map(Path::toString)
            .findFirst()
            .orElseThrow(() -> new Unavailable("no `ip` command (iproute2) in " + IP));
    NetworkNamespaces net = new NetworkNamespaces(ip, PREFIX + ProcessHandle.current().pid());
    try {
      net.removeLeftovers();
      net.add(net.bridge());
    } catch (IOException e) {
      net.close();
      throw new Unavailable(
          "cannot create a network namespace (`ip netns add` needs root:"
              + " CAP_SYS_ADMIN and CAP_NET_ADMIN): "
              + e.getMessage());
    }
    try {
      net.ip("-n", net.bridge(), "link", "add", "br0", "type", "bridge");
      net.ip("-n", net.bridge(), "link", "set", "br0", "up");
      for (int host = 1; host <= hosts; host++) {
        String ns = net.namespace(host);
        net.add(ns);
        net.ip(
            "-n",
            net.bridge(),
            "link",
            "add",
            "port" + host,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            ns);
        net.ip("-n", net.bridge(), "link", "set", "port" + host, "master", "br0");
        net.ip("-n", net.bridge(), "link", "set", "port" + host, "up");
        net.ip("-n", ns, "addr", "add", net.address(host) + "/24", "dev", "eth0");
        net.ip("-n", ns, "link", "set", "eth0", "up");
        net.ip("-n", ns, "link", "set", "lo", "up");
      }
    } catch (IOException e) {
      net.close();
      throw new Unavailable("cannot connect the test's network namespaces: " + e.getMessage());
    }
    return net;
  }

  /** The address of host {@code host} (from 1). */
  String address(int host) {
    return "10.77.0." + host;
  }

  String namespace(int host) {
    return name + "-" + host;
  }

  /** {@code command} run inside host {@code host}'s namespace ({@code ip netns exec} execs it). */
  List<String> exec(int host, List<String> command) {
    List<String> out = new ArrayList<>(List.of(ip, "netns", "exec", namespace(host)));
    out.addAll(command);
    return out;
  }

  /** Deletes the namespaces (and so their interfaces); their processes must be gone first. */
  @Override
  public void close() {
    for (int i = created.size() - 1; i >= 0; i--) {
      try {
        ip("netns", "del", created.get(i));
      } catch (IOException e) {
        System.err.println(
            "could not delete network namespace " + created.get(i) + ": " + e.getMessage());
      }
    }
    created.clear();
  }

  private String bridge() {
    return name + "-br";
  }

  private void add(String ns) throws IOException {
    ip("netns", "add", ns);
    created.add(ns);
  }

  /** Namespaces of this prefix whose test JVM is gone: their processes killed, then deleted. */
  private void removeLeftovers() throws IOException {
    for (String line : ip("netns", "list").split("\n")) {
      Matcher m = OURS.matcher(line.strip().split(" ")[0]);
      if (!m.matches() || ProcessHandle.of(Long.parseLong(m.group(1))).isPresent()) {
        continue;
      }
      for (String pid : ip("netns", "pids", m.group()).split("\\s+")) {
        if (!pid.isEmpty()) {
          ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
      ip("netns", "del", m.group());
      System.out.println("removed network namespace " + m.group() + " of an earlier run");
    }
  }

  /** Runs {@code ip ARGS}; its output, or an IOException with what it said. */
  private String ip(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(ip));
    command.addAll(List.of(args));
    Path output = Files.createTempFile("anvil-ip", ".txt");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + ": no answer within 30 s");
      }
      String out = Files.readString(output, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IOException(
            String.join(" ", command) + " exited " + p.exitValue() + ": " + out.strip());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /** This machine cannot make network namespaces for the test; the message says why. */
  static final class Unavailable extends Exception {
    Unavailable(String message) {
      super(message);
    }
  }
}
