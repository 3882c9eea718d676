package dev.anvil.runtime.launcher;

import java.nio.file.Path;
import java.util.stream.Collectors;

/** A launcher process for {@link OrphanTest}: starts a local cluster, prints its PIDs, waits. */
public final class LauncherForTest {
  private LauncherForTest() {}

  public static void main(String[] args) throws Exception {
    LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(2, 1, Path.of(args[0])));
    String postmaster =
        java.nio.file.Files.readAllLines(Path.of(args[0], "postgres", "postmaster.pid"))
            .get(0)
            .trim();
    System.out.println(
        "PIDS "
            + cluster.nodePids().stream().map(String::valueOf).collect(Collectors.joining(" "))
            + " "
            + postmaster);
    System.out.flush();
    Thread.currentThread().join(); // until killed
  }
}
