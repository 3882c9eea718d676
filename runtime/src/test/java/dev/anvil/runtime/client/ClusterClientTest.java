package dev.anvil.runtime.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The seeds a client joins through (one node or several, each HOST:PORT), the address it advertises
 * for the nodes to reach it back, and what it says when it cannot join.
 */
class ClusterClientTest {
  @Test
  void severalSeedsAreCommaSeparated() {
    assertEquals(
        List.of("10.0.0.1:25520", "node-2.anvil:25520"),
        ClusterClient.parseSeeds("10.0.0.1:25520, node-2.anvil:25520"));
  }

  @Test
  void aMalformedSeedIsNamedWithWhatIsAllowed() {
    for (String bad : List.of("", "host", "host:0", "host:70000", "a:1,", "ho st:1")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> ClusterClient.parseSeeds(bad), bad);
      assertTrue(e.getMessage().contains("expected HOST:PORT"), e.getMessage());
    }
  }

  @Test
  void aClientOfALoopbackNodeAdvertisesLoopback() throws Exception {
    assertEquals(
        new ClientAddress("127.0.0.1", 0),
        ClientAddress.choose(
            "127.0.0.1:25520",
            InetAddress.getByName("127.0.0.1"),
            Optional.of(InetAddress.getByName("10.0.0.2"))));
    assertEquals(
        new ClientAddress("127.0.0.1", 0),
        ClientAddress.routingTo(List.of("127.0.0.1:25520", "10.77.0.1:25520")));
    assertEquals(
        new ClientAddress("127.0.0.1", 0), ClientAddress.routingTo(List.of("localhost:25520")));
  }

  @Test
  void aClientOfARemoteNodeAdvertisesTheAddressThatRoutesToIt() throws Exception {
    assertEquals(
        new ClientAddress("10.77.0.2", 0),
        ClientAddress.choose(
            "10.77.0.1:25520",
            InetAddress.getByName("10.77.0.1"),
            Optional.of(InetAddress.getByName("10.77.0.2"))));
  }

  @Test
  void withoutARouteToTheNodeTheClientAsksForHost() throws Exception {
    for (Optional<InetAddress> routed :
        List.of(Optional.<InetAddress>empty(), Optional.of(InetAddress.getByName("0.0.0.0")))) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  ClientAddress.choose(
                      "10.77.0.1:25520", InetAddress.getByName("10.77.0.1"), routed));
      assertEquals(
          "cannot tell which address of this machine reaches the node at"
              + " 10.77.0.1:25520 (no route to 10.77.0.1): give --host with an address of this"
              + " machine that the nodes reach",
          e.getMessage());
    }
  }

  @Test
  void hostTakesAnAddressAndAnOptionalPort() {
    assertEquals(new ClientAddress("10.77.0.2", 0), ClientAddress.parse("10.77.0.2"));
    assertEquals(
        new ClientAddress("client.anvil", 25600), ClientAddress.parse(" client.anvil:25600 "));
    assertEquals(new ClientAddress("fd00::2", 0), ClientAddress.parse("fd00::2"));
    for (String bad :
        List.of(
            "", "10.0.0.2:0", "10.0.0.2:70000", "10.0.0.2:x", "a b", "pekko://anvil@10.0.0.2:1")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> ClientAddress.parse(bad), bad);
      assertTrue(e.getMessage().startsWith("--host = "), e.getMessage());
    }
  }

  @Test
  void arteryBindsTheAdvertisedAddressOnlyWhenItIsThisMachines() {
    ClientAddress advertised = new ClientAddress("203.0.113.7", 25600);
    assertEquals("203.0.113.7", ClientAddress.bindHost(advertised, true));
    assertEquals("0.0.0.0", ClientAddress.bindHost(advertised, false));
    assertTrue(ClientAddress.isLocal("127.0.0.1"));
    assertFalse(ClientAddress.isLocal("203.0.113.7"));
  }

  @Test
  void aFailedJoinNamesTheAdvertisedAddressAndWhatToCheck() {
    assertEquals(
        "could not join the cluster at 10.77.0.1:25520, 10.77.0.3:25520 within 30 s."
            + " Is a node running there? This client advertised pekko://anvil@10.77.0.2:41234: the"
            + " nodes must reach it back at that address and port (a firewall must let them in;"
            + " --host HOST[:PORT] sets what this client advertises). A cluster with mutual TLS"
            + " takes a member certificate of its CA: --tls DIR.",
        ClusterClient.joinTimedOut(
            List.of("10.77.0.1:25520", "10.77.0.3:25520"),
            "pekko://anvil@10.77.0.2:41234",
            Duration.ofSeconds(30)));
  }

  /** With no node at the seed, the join ends at its deadline, naming the address it advertised. */
  @Test
  void aJoinThatGetsNoAnswerEndsAtItsDeadlineNamingTheAdvertisedAddress() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                ClusterClient.join(
                    List.of("127.0.0.1:" + freePort()),
                    new ClientAddress("127.0.0.1", 0),
                    Duration.ofSeconds(3),
                    com.typesafe.config.ConfigFactory.empty()));
    assertTrue(
        e.getMessage().contains("This client advertised pekko://anvil@127.0.0.1:"), e.getMessage());
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
