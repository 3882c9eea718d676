package dev.anvil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The throughput benchmark's command line: its defaults, and errors that name the option. */
class ClusterThroughputOptionsTest {
  @Test
  void noArgumentsGiveTheDocumentedDefaults() {
    assertEquals(
        new ClusterThroughputOptions(2, 2, 150, 1500, 30, true, false),
        ClusterThroughputOptions.parse(new String[0]));
  }

  @Test
  void everyOptionSetsItsField() {
    String[] args = {
      "--tls",
      "--repeats",
      "5",
      "--small-epochs",
      "3",
      "--large-rounds",
      "7",
      "--warmup-small-rounds",
      "11",
      "--warmup-large-rounds",
      "13",
      "--no-ddp"
    };
    assertEquals(
        new ClusterThroughputOptions(5, 3, 7, 11, 13, false, true),
        ClusterThroughputOptions.parse(args));
  }

  @Test
  void badArgumentsAreNamed() {
    assertEquals(
        "unknown argument --help",
        assertThrows(
                IllegalArgumentException.class,
                () -> ClusterThroughputOptions.parse(new String[] {"--help"}))
            .getMessage());
    assertEquals(
        "--small-epochs needs an integer >= 2",
        assertThrows(
                IllegalArgumentException.class,
                () -> ClusterThroughputOptions.parse(new String[] {"--small-epochs", "1"}))
            .getMessage());
    assertEquals(
        "--repeats needs an integer >= 1",
        assertThrows(
                IllegalArgumentException.class,
                () -> ClusterThroughputOptions.parse(new String[] {"--repeats"}))
            .getMessage());
  }
}
