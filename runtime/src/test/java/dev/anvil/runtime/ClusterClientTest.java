package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The seeds a client joins through: one node or several, each HOST:PORT. */
class ClusterClientTest {
  @Test
  void severalSeedsAreCommaSeparated() {
    assertEquals(List.of("10.0.0.1:25520", "node-2.anvil:25520"),
        ClusterClient.parseSeeds("10.0.0.1:25520, node-2.anvil:25520"));
  }

  @Test
  void aMalformedSeedIsNamedWithWhatIsAllowed() {
    for (String bad : List.of("", "host", "host:0", "host:70000", "a:1,", "ho st:1")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ClusterClient.parseSeeds(bad), bad);
      assertTrue(e.getMessage().contains("expected HOST:PORT"), e.getMessage());
    }
  }
}
