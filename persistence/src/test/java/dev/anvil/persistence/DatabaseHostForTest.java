package dev.anvil.persistence;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process that hosts an embedded database for {@link KilledDatabaseHostTest}: starts it on folder
 * {@code args[0]} and port {@code args[1]}, prints {@code READY <postmaster pid>}, waits until
 * killed.
 */
public final class DatabaseHostForTest {
  private DatabaseHostForTest() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    EmbeddedDatabase.start(dir, Integer.parseInt(args[1]));
    String postmaster = Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim();
    System.out.println("READY " + postmaster);
    System.out.flush();
    Thread.currentThread().join(); // until killed
  }
}
