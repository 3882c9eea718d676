package dev.anvil.cli;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.TrainingResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code anvil demo}: the determinism story on one machine. Trains the MLP example
 * (Fashion-MNIST when Debian's data set is installed, else the synthetic set) with every core,
 * then again on one worker, and shows both runs end with the same parameter hash.
 */
@Command(name = "demo", description = "Train the MLP example twice (all cores, then one worker)"
    + " and show that both end with the same parameters.")
final class DemoCommand implements Callable<Integer> {
  static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  @Option(names = "--out", defaultValue = "anvil-runs/demo",
      description = "Folder for the results (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--synthetic", description = "Use the synthetic data set even when"
      + " Fashion-MNIST is installed.")
  boolean synthetic;

  @Override
  public Integer call() {
    boolean fmnist = !synthetic && Files.isDirectory(FASHION_MNIST);
    String example = fmnist ? "fmnist-mlp.conf" : "synthetic-mlp.conf";
    System.out.println(fmnist
        ? "Fashion-MNIST found in " + FASHION_MNIST + ": training examples/" + example
        : "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): training"
            + " examples/" + example + " on the built-in synthetic data set");
    JobSpec spec = JobSpecParser.parse(readExample(example), "examples/" + example, null);
    int cores = Runtime.getRuntime().availableProcessors();

    System.out.printf("%n== run 1: %d workers ==%n", cores);
    TrainingResult many = ReferenceRun.run(spec, example, cores, ProgressBar.forConsole(false));
    ReferenceRun.write(many, out.resolve("result-" + cores + "-workers.json"));
    System.out.println(ReferenceRun.summary(many));

    System.out.printf("%n== run 2: 1 worker, same job ==%n");
    TrainingResult one = ReferenceRun.run(spec, example, 1, ProgressBar.forConsole(false));
    ReferenceRun.write(one, out.resolve("result-1-worker.json"));
    System.out.println(ReferenceRun.summary(one));

    boolean same = many.paramsSha256().equals(one.paramsSha256());
    System.out.printf("%n%s: %d workers and 1 worker ended with %s parameters%n  %s%n  %s%n"
            + "results in %s%n", same ? "OK" : "MISMATCH", cores,
        same ? "bitwise identical" : "DIFFERENT", many.paramsSha256(), one.paramsSha256(), out);
    return same ? 0 : 1;
  }

  static String readExample(String name) {
    try (InputStream in = DemoCommand.class.getResourceAsStream("/examples/" + name)) {
      if (in == null) {
        throw new IllegalStateException("example " + name + " is missing from the build");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
