package dev.anvil.persistence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server that an earlier process left running on a data folder: its host was killed
 * (SIGKILL runs no shutdown hook) and its watchdog went with it. The server still holds the folder
 * and the port, and a new one could not start there. {@link #stopIfRunning} stops it (fast
 * shutdown: open transactions roll back, nothing committed is lost) before a new server starts.
 *
 * <p>It is that folder's server only when all of these hold: {@code postmaster.pid} names a live
 * process, the process is a {@code postgres} executable, the file names this folder, and the
 * process started when the file says its server did (so a reused process id is never taken for it).
 */
final class StalePostmaster {
  private static final Logger log = LoggerFactory.getLogger(StalePostmaster.class);

  /** Seconds the process's start and the file's start time may differ by (clock granularity). */
  private static final long START_SLACK_SECONDS = 5;

  private StalePostmaster() {}

  /** The first lines of {@code postmaster.pid}: process id, data folder, start (epoch s), port. */
  record PidFile(long pid, Path dataDirectory, long startEpochSecond, int port) {
    static Optional<PidFile> parse(List<String> lines) {
      if (lines.size() < 4) {
        return Optional.empty(); // being written, or not a server's
      }
      try {
        return Optional.of(
            new PidFile(
                Long.parseLong(lines.get(0).trim()),
                Path.of(lines.get(1).trim()),
                Long.parseLong(lines.get(2).trim()),
                Integer.parseInt(lines.get(3).trim())));
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }
  }

  /** What is known of the live process the file names. */
  record Running(String command, Optional<Instant> started) {}

  /**
   * The pure decision: whether {@code process} (empty: no live process with that id) is the server
   * of {@code dataDirectory} that {@code file} describes.
   */
  static boolean isServerOf(PidFile file, Path dataDirectory, Optional<Running> process) {
    if (process.isEmpty() || !file.dataDirectory().equals(dataDirectory)) {
      return false;
    }
    String name = Path.of(process.get().command()).getFileName().toString();
    return name.equals("postgres")
        && process
            .get()
            .started()
            .map(s -> Math.abs(s.getEpochSecond() - file.startEpochSecond()) <= START_SLACK_SECONDS)
            .orElse(false);
  }

  /**
   * Stops the server a killed process left running on {@code dataDirectory}, if there is one, and
   * returns once it has exited; fails when it does not exit within {@code timeout} (fast shutdown)
   * plus 10 s (immediate shutdown).
   */
  static void stopIfRunning(Path dataDirectory, Duration timeout) {
    Optional<PidFile> file;
    Path real;
    try {
      real = dataDirectory.toRealPath();
      file = PidFile.parse(Files.readAllLines(real.resolve("postmaster.pid")));
    } catch (NoSuchFileException e) {
      return; // no server ran here, or it shut down cleanly
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read " + dataDirectory.resolve("postmaster.pid") + ": " + e.getMessage(), e);
    }
    if (file.isEmpty()) {
      return;
    }
    Optional<ProcessHandle> handle =
        ProcessHandle.of(file.get().pid()).filter(ProcessHandle::isAlive);
    Optional<Running> running =
        handle.map(h -> new Running(h.info().command().orElse(""), h.info().startInstant()));
    if (!isServerOf(file.get(), real, running)) {
      return; // a stale file of a server that is gone: PostgreSQL itself replaces it
    }
    log.warn(
        "a PostgreSQL server (process {}, port {}) is still running on {}, left by a"
            + " process that was killed; stopping it (fast shutdown) before starting afresh",
        file.get().pid(),
        file.get().port(),
        real);
    ProcessHandle server = handle.get();
    if (!signalAndAwait(server, "INT", timeout)
        && !signalAndAwait(server, "QUIT", Duration.ofSeconds(10))) {
      throw new IllegalStateException(
          "the PostgreSQL server left running on "
              + real
              + " (process "
              + server.pid()
              + ") did not stop within "
              + timeout.toSeconds()
              + " s; stop it (kill -INT "
              + server.pid()
              + ") and start again");
    }
    log.info("stopped the PostgreSQL server (process {}) left running on {}", server.pid(), real);
  }

  /** Sends {@code signal} (PostgreSQL: INT fast, QUIT immediate shutdown); true once exited. */
  private static boolean signalAndAwait(ProcessHandle server, String signal, Duration timeout) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(server.pid()))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      kill.waitFor(10, TimeUnit.SECONDS);
      server.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted while stopping PostgreSQL process " + server.pid(), e);
    } catch (IOException | ExecutionException e) {
      throw new IllegalStateException(
          "cannot signal PostgreSQL process " + server.pid() + ": " + e.getMessage(), e);
    }
  }
}
