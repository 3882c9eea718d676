package dev.anvil.runtime.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ports chosen for a local cluster's nodes: distinct, free, and clear of the ephemeral range. */
class LocalPortsTest {
  @Test
  void portsAreDistinctAndBelowTheEphemeralRange() throws Exception {
    int ephemeralLow = 32768;
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    if (Files.exists(range)) {
      ephemeralLow = Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
    }
    assertEquals(ephemeralLow, LocalPorts.belowEphemeral()[1], "the range read from /proc");
    Set<Integer> taken = new HashSet<>();
    for (int i = 0; i < 40; i++) {
      int port = LocalPorts.freePort(taken);
      assertTrue(
          port >= 1024 && port < ephemeralLow,
          "port " + port + " vs ephemeral from " + ephemeralLow);
    }
    assertEquals(40, taken.size(), "never the same port twice");
  }
}
