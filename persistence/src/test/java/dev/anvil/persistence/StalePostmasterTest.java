package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.persistence.StalePostmaster.PidFile;
import dev.anvil.persistence.StalePostmaster.Running;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which process a start takes for the server a killed host left on its folder. */
class StalePostmasterTest {
  private static final Path DIR = Path.of("/var/lib/anvil-db");
  private static final PidFile FILE = new PidFile(4242, DIR, 1_800_000_000L, 5432);

  @Test
  void thePidFilesFirstFourLinesAreRead() {
    assertEquals(
        Optional.of(FILE),
        PidFile.parse(
            List.of(
                "4242",
                "/var/lib/anvil-db",
                "1800000000",
                "5432",
                "/tmp",
                "*",
                "  5432001     32768",
                "ready   ")));
    assertEquals(Optional.empty(), PidFile.parse(List.of("4242", "/var/lib/anvil-db")));
    assertEquals(Optional.empty(), PidFile.parse(List.of("x", "/d", "1", "5432")));
  }

  @Test
  void theServerIsAPostgresOfThisFolderThatStartedWhenTheFileSays() {
    Instant started = Instant.ofEpochSecond(1_800_000_000L).minusMillis(300);
    assertTrue(
        StalePostmaster.isServerOf(
            FILE,
            DIR,
            Optional.of(new Running("/tmp/embedded-pg/PG-1/bin/postgres", Optional.of(started)))));
  }

  @Test
  void anythingElseIsLeftAlone() {
    Optional<Instant> started = Optional.of(Instant.ofEpochSecond(1_800_000_000L));
    assertFalse(StalePostmaster.isServerOf(FILE, DIR, Optional.empty()), "no live process");
    assertFalse(
        StalePostmaster.isServerOf(FILE, DIR, Optional.of(new Running("/usr/bin/java", started))),
        "another program took the pid");
    assertFalse(
        StalePostmaster.isServerOf(
            FILE, Path.of("/other"), Optional.of(new Running("/usr/bin/postgres", started))),
        "the file of another folder");
    assertFalse(
        StalePostmaster.isServerOf(
            FILE,
            DIR,
            Optional.of(
                new Running(
                    "/usr/bin/postgres", Optional.of(Instant.ofEpochSecond(1_800_000_600L))))),
        "a postgres that reused the pid later");
    assertFalse(
        StalePostmaster.isServerOf(
            FILE, DIR, Optional.of(new Running("/usr/bin/postgres", Optional.empty()))),
        "start time unknown");
  }
}
