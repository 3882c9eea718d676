package dev.anvil.runtime.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Ports for the node JVMs of a local cluster, chosen before the nodes bind them. */
final class LocalPorts {
  private LocalPorts() {}

  /**
   * A port free on 127.0.0.1 now and not in {@code taken} (it is added): chosen at random below the
   * kernel's ephemeral range, so that neither the ports chosen for other nodes nor the ephemeral
   * ports of their outgoing connections can be handed out again before a node binds it (both
   * happened: a node's HTTP port was another node's cluster port).
   */
  static int freePort(Set<Integer> taken) {
    int[] range = belowEphemeral();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = random.nextInt(range[0], range[1]);
      if (!taken.contains(port) && bindable(port)) {
        taken.add(port);
        return port;
      }
    }
    for (int attempt = 0; attempt < 20; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (taken.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("no free port: " + e.getMessage(), e);
      }
    }
    throw new IllegalStateException("no free port on 127.0.0.1");
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** [from, to) below the ephemeral ports (/proc/sys/net/ipv4/ip_local_port_range). */
  static int[] belowEphemeral() {
    int low = 32768;
    try {
      // readAllLines, not readString: /proc files report size 0, and readString then read
      // one byte ("3").
      String[] r =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
              .get(0)
              .trim()
              .split("\\s+");
      low = Integer.parseInt(r[0]);
    } catch (IOException | RuntimeException e) {
      // not Linux: assume the usual range
    }
    if (low < 16384 || low > 65535) {
      low = 32768; // an unusual range: keep clear of the usual one
    }
    return new int[] {low - 12000, low};
  }
}
