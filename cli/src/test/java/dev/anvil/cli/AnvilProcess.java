package dev.anvil.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code anvil} command in a JVM of its own, started as the {@code anvil} script starts it
 * ({@code java $ANVIL_JAVA_OPTS -cp ... dev.anvil.cli.Main ARGS}, OpenBLAS single-threaded), behind
 * a launcher prefix such as {@code ip netns exec NS} that execs it; stdout and stderr go to one log
 * file ({@code log}).
 */
record AnvilProcess(String name, Process process, Path log) {
  /**
   * Starts {@code anvil ARGS} as {@code launcher + java ...} in {@code directory}, with {@code
   * javaOptions} in the place of ANVIL_JAVA_OPTS and {@code env} added to the environment; its
   * output goes to {@code log}.
   */
  static AnvilProcess start(
      String name,
      List<String> launcher,
      List<String> javaOptions,
      Map<String, String> env,
      Path directory,
      Path log,
      List<String> args)
      throws IOException {
    List<String> command = new ArrayList<>(launcher);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(javaOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(args);
    Files.createDirectories(log.toAbsolutePath().getParent());
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("OPENBLAS_NUM_THREADS", "1");
    builder.environment().putAll(env);
    return new AnvilProcess(name, builder.start(), log);
  }

  /**
   * Waits until a line of the output matches {@code line}; fails with {@code context} (the logs of
   * the cluster) when the process exits first or {@code timeout} passes.
   */
  Matcher awaitLine(Pattern line, Duration timeout, Function<String, String> context)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Matcher m = line.matcher(output());
      if (m.find()) {
        return m;
      }
      String why =
          !process.isAlive()
              ? name + " exited with code " + process.exitValue()
              : System.nanoTime() > deadline
                  ? name
                      + " printed no line matching /"
                      + line
                      + "/ within "
                      + timeout.toSeconds()
                      + " s"
                  : null;
      if (why != null) {
        throw new AssertionError(context.apply(why));
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling the log file
    }
  }

  /** The exit code; fails with {@code context} when it still runs after {@code timeout}. */
  int awaitExit(Duration timeout, Function<String, String> context) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          context.apply(name + " still runs after " + timeout.toSeconds() + " s"));
    }
    return process.exitValue();
  }

  /** SIGKILL of the JVM itself (the launcher exec'd it), returning once it is gone. */
  void kill(Duration timeout) throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          name + " (pid " + process.pid() + ") outlived SIGKILL by " + timeout.toSeconds() + " s");
    }
  }

  /**
   * Stops the commands and everything they started: SIGTERM to all first, so that a node's shutdown
   * hook stops the PostgreSQL it hosts, then SIGKILL for whatever still runs after {@code grace}.
   */
  static void stopAll(List<AnvilProcess> commands, Duration grace) {
    List<ProcessHandle> all = new ArrayList<>();
    for (AnvilProcess c : commands) {
      all.addAll(c.process.descendants().toList());
      all.add(c.process.toHandle());
    }
    all.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        h.descendants().forEach(ProcessHandle::destroyForcibly);
        h.destroyForcibly();
      }
    }
  }

  /** What the command printed so far. */
  String output() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  /** The last {@code lines} lines of the output, headed by the command's name and log file. */
  String tail(int lines) {
    String[] all = output().split("\n");
    StringBuilder sb = new StringBuilder("---- " + name + " (" + log + "), last lines:\n");
    for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
      sb.append(all[i]).append('\n');
    }
    return sb.toString();
  }
}
