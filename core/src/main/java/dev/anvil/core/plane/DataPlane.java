package dev.anvil.core.plane;

import java.net.InetSocketAddress;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * A node's data-plane port, for the workers and coordinators of its actor system: {@link #start}ed
 * by the node after its actor system (a node started without one, e.g. an embedding that turned it
 * off, has none, and its jobs' rounds go over Artery). Closed when the actor system terminates.
 */
public final class DataPlane implements Extension {
  private static final ExtensionId<DataPlane> ID =
      new ExtensionId<>() {
        @Override
        public DataPlane createExtension(ActorSystem<?> system) {
          return new DataPlane();
        }
      };

  private volatile PlaneServer server;
  private volatile String advertised;

  private DataPlane() {}

  public static DataPlane get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /**
   * Serves {@code server} for this system; {@code host} is the address peers reach it at (the
   * node's canonical host name). The server closes with the system.
   */
  public void start(ActorSystem<?> system, PlaneServer server, String host) {
    if (this.server != null) {
      throw new IllegalStateException("the data plane of " + system.address() + " runs already");
    }
    this.server = server;
    this.advertised = host + ":" + server.address().getPort();
    system.getWhenTerminated().thenRun(server::close);
  }

  /** This node's server; null when the node has none. */
  public PlaneServer server() {
    return server;
  }

  /** Where peers reach this node's server, {@code host:port}; null when it has none. */
  public String advertised() {
    return advertised;
  }

  /**
   * A peer's {@code host:port} as workers advertise it.
   *
   * @throws IllegalArgumentException naming what is wrong, without quoting more than the value's
   *     length
   */
  public static InetSocketAddress parse(String hostPort) {
    int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
    if (colon <= 0 || hostPort.length() > 300) {
      throw new IllegalArgumentException("a data-plane address must be host:port");
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("a data-plane address needs a port from 1 to 65535");
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return InetSocketAddress.createUnresolved(host, port);
  }
}
