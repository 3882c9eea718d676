package dev.anvil.runtime.launcher;

import java.util.Set;

/** The two ports of a local cluster's node on {@link #HOST}: its cluster port and its HTTP API. */
record NodePorts(int cluster, int http) {
  /** Every node of a local cluster listens on loopback. */
  static final String HOST = "127.0.0.1";

  /** Two ports free now and not in {@code taken}, which gets both ({@link LocalPorts}). */
  static NodePorts choose(Set<Integer> taken) {
    return new NodePorts(LocalPorts.freePort(taken), LocalPorts.freePort(taken));
  }

  /** host:port of the cluster port, as members and seeds name it. */
  String address() {
    return HOST + ":" + cluster;
  }

  String httpUrl() {
    return "http://" + HOST + ":" + http;
  }
}
