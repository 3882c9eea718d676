package dev.anvil.bench;

import java.util.Collection;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/** Runs the JMH benchmarks of one class from its {@code main}, with JMH's command-line options. */
final class JmhRuns {
  private JmhRuns() {}

  /**
   * Runs {@code benchmark}'s methods with the options in {@code args}; when they name no benchmark,
   * only that class's, since JMH would otherwise run every benchmark in the jar.
   */
  static Collection<RunResult> run(Class<?> benchmark, String[] args) throws Exception {
    Options options = new CommandLineOptions(args);
    if (options.getIncludes().isEmpty()) {
      options =
          new OptionsBuilder()
              .parent(options)
              .include(Pattern.quote(benchmark.getName() + "."))
              .build();
    }
    return new Runner(options).run();
  }
}
