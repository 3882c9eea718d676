package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded PostgreSQL is a process of its own: these tests kill the JVM that hosts it ({@link
 * DatabaseHostForTest}, as {@code anvil node --host-db DIR} hosts it) with SIGKILL ({@code
 * destroyForcibly}, no shutdown hook runs) once the database is up, and check what is left and that
 * the next start on the same folder and port works.
 */
class KilledDatabaseHostTest {
  @TempDir Path dir;
  private final List<Long> serversToReap = new ArrayList<>();
  private final List<String> hostOutput = new ArrayList<>();

  /** Kills what a failed test may have left running, so no server outlives the test. */
  @AfterEach
  void reap() {
    for (long pid : serversToReap) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts the host JVM and returns it once its database is up; the server's pid is noted. */
  private Process startHost(int port) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process host =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                DatabaseHostForTest.class.getName(),
                dir.toString(),
                String.valueOf(port))
            .redirectErrorStream(true)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
    java.util.concurrent.CompletableFuture<Long> ready =
        new java.util.concurrent.CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                String line;
                while ((line = out.readLine()) != null) {
                  synchronized (hostOutput) {
                    hostOutput.add(line);
                  }
                  if (line.startsWith("READY ")) {
                    ready.complete(Long.parseLong(line.substring(6).trim()));
                  }
                }
              } catch (java.io.IOException e) {
                ready.completeExceptionally(e);
              }
              ready.completeExceptionally(
                  new AssertionError("the host exited before its database" + " was up"));
            },
            "database-host-output");
    reader.setDaemon(true);
    reader.start();
    try {
      serversToReap.add(ready.get(60, TimeUnit.SECONDS));
    } catch (Exception e) {
      host.destroyForcibly();
      throw new AssertionError(
          "the host's database was not up within 60 s; its output:\n" + output(), e);
    }
    return host;
  }

  private String output() {
    synchronized (hostOutput) {
      return String.join("\n", hostOutput);
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Awaits the exit of process {@code pid} for up to {@code seconds}; true when it exited. */
  private static boolean exits(long pid, int seconds) throws Exception {
    ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
    if (handle == null) {
      return true;
    }
    try {
      handle.onExit().get(seconds, TimeUnit.SECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  private static void assertUsable(EmbeddedDatabase db) throws Exception {
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
        ResultSet r = c.createStatement().executeQuery("SELECT 1")) {
      assertTrue(r.next());
      assertEquals(1, r.getInt(1));
    }
  }

  /**
   * Kills the host JVM alone: its watchdog sees the pipe close and stops the server within 30 s;
   * then the same folder and port start again.
   */
  @Test
  void killingTheHostStopsItsDatabase() throws Exception {
    int port = freePort();
    Process host = startHost(port);
    long server = serversToReap.get(0);
    assertTrue(alive(server), "the server runs before the kill");

    host.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

    assertTrue(
        exits(server, 30),
        () ->
            "the server (process "
                + server
                + ") outlived its"
                + " killed host by 30 s; host output:\n"
                + output());
    try (EmbeddedDatabase again = EmbeddedDatabase.start(dir, port)) {
      assertEquals(port, again.port());
      assertUsable(again);
    }
  }

  /**
   * Kills the watchdog, then the host JVM (as a kill of the whole process group does): the server
   * is left running, holding the folder and the port. The next start on that folder stops it and
   * starts a server of its own, which then stops with it: no process is left.
   */
  @Test
  void aServerLeftRunningIsStoppedByTheNextStart() throws Exception {
    int port = freePort();
    Process host = startHost(port);
    long orphan = serversToReap.get(0);
    List<ProcessHandle> watchdogs =
        host.children()
            .filter(
                p ->
                    p.info()
                        .command()
                        .map(c -> c.endsWith("/sh") || c.endsWith("/dash") || c.endsWith("/bash"))
                        .orElse(false))
            .toList();
    assertEquals(
        1,
        watchdogs.size(),
        () ->
            "the host's children: "
                + host.children()
                    .map(p -> p.pid() + " " + p.info().command().orElse("?"))
                    .toList());
    watchdogs.get(0).destroyForcibly();
    watchdogs.get(0).onExit().get(10, TimeUnit.SECONDS);
    host.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

    assertTrue(alive(orphan), "the server outlives its killed host and watchdog");
    assertTrue(Files.exists(dir.resolve("postmaster.pid")));

    long replacement;
    try (EmbeddedDatabase again = EmbeddedDatabase.start(dir, port)) {
      assertTrue(exits(orphan, 1), "the server left running was stopped before the start");
      replacement = Long.parseLong(Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim());
      serversToReap.add(replacement);
      assertNotEquals(orphan, replacement, "a server of its own, not the one left running");
      assertEquals(port, again.port());
      assertUsable(again);
    }
    assertTrue(exits(replacement, 30), "the new server stops when closed");
  }
}
