package dev.anvil.runtime.client;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * The address a client member advertises: nodes connect back to it (Artery opens connections in
 * both directions), so it must be an address of this machine that they reach, on a port their
 * firewall lets through. Port 0 is a free port chosen at start.
 */
public record ClientAddress(String host, int port) {
  public ClientAddress {
    if (!host.matches("[A-Za-z0-9.\\-]{1,253}|[0-9A-Fa-f:]{2,39}")) {
      throw new IllegalArgumentException(
          "--host = "
              + shorten(host)
              + ": expected a host name"
              + " or IP address of this machine that the nodes reach");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "--host = "
              + host
              + ":"
              + port
              + ": the port must be"
              + " from 1 to 65535 (or leave it out: a free port)");
    }
  }

  /** {@code HOST} (a free port) or {@code HOST:PORT}; bad input names --host and what it takes. */
  public static ClientAddress parse(String value) {
    String v = value.trim();
    int colon = v.lastIndexOf(':');
    if (colon < 0 || v.indexOf(':') != colon) { // a name, IPv4, or a bare IPv6 address
      return new ClientAddress(v, 0);
    }
    String port = v.substring(colon + 1);
    if (!port.matches("\\d{1,5}") || Integer.parseInt(port) == 0) {
      throw new IllegalArgumentException(
          "--host = " + shorten(v) + ": expected HOST or" + " HOST:PORT, port 1-65535");
    }
    return new ClientAddress(v.substring(0, colon), Integer.parseInt(port));
  }

  /**
   * The address of this machine that routes to the first of {@code seeds} (HOST:PORT each), on a
   * free port: 127.0.0.1 for a loopback seed. Asks the routing table (a UDP socket connected to the
   * seed sends nothing); fails, asking for --host, when the seed cannot be resolved or no local
   * address routes to it.
   */
  public static ClientAddress routingTo(List<String> seeds) {
    String seed = seeds.get(0);
    String host = seed.substring(0, seed.lastIndexOf(':'));
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "--cluster = " + seed + ": cannot resolve " + host + " (" + e.getMessage() + ")");
    }
    return choose(seed, address, localAddressTowards(address));
  }

  /**
   * The pure choice: 127.0.0.1 for a loopback seed, else the local address the routing table gave;
   * without one (or only the wildcard) an error that asks for --host.
   */
  static ClientAddress choose(String seed, InetAddress seedAddress, Optional<InetAddress> routed) {
    if (seedAddress.isLoopbackAddress()) {
      return new ClientAddress("127.0.0.1", 0);
    }
    InetAddress local =
        routed
            .filter(a -> !a.isAnyLocalAddress())
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "cannot tell which address of this machine reaches the node at"
                            + " "
                            + seed
                            + " (no route to "
                            + seedAddress.getHostAddress()
                            + "): give --host"
                            + " with an address of this machine that the nodes reach"));
    return new ClientAddress(local.getHostAddress(), 0);
  }

  private static Optional<InetAddress> localAddressTowards(InetAddress seed) {
    try (DatagramSocket probe = new DatagramSocket()) {
      probe.connect(new InetSocketAddress(seed, 9)); // UDP connect: a route lookup, no packet
      return Optional.ofNullable(probe.getLocalAddress());
    } catch (SocketException e) {
      return Optional.empty();
    }
  }

  /**
   * The address Artery binds to: the advertised one when it belongs to this machine, else every
   * address ({@code 0.0.0.0}: the advertised one is a NAT's or a load balancer's that forwards
   * here).
   */
  static String bindHost(ClientAddress advertised, boolean local) {
    return local ? advertised.host() : "0.0.0.0";
  }

  /** Whether {@code host} is an address of one of this machine's interfaces (or loopback). */
  static boolean isLocal(String host) {
    try {
      InetAddress address = InetAddress.getByName(host);
      return address.isLoopbackAddress() || NetworkInterface.getByInetAddress(address) != null;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code host:port} (the port once bound). */
  @Override
  public String toString() {
    return host + ":" + port;
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }
}
