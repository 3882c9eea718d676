package dev.anvil.cli;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.KernelChoice;
import dev.anvil.core.spec.TrainingLength;
import dev.anvil.core.train.TrainingResult;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anvil train --local --job FILE --out result.json}. */
@Command(name = "train", description = "Train a job and write result.json.")
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--job", required = true, description = "Job file (HOCON).")
  Path job;

  @Option(names = "--local", description = "Run the single-process reference trainer.")
  boolean local;

  @Option(names = "--out", defaultValue = "result.json",
      description = "Where to write the result (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--workers", description = "Worker threads (default: the number of cores)."
      + " The result does not depend on it.")
  Integer workers;

  @Option(names = "--kernel", description = "Override job.kernel: auto | native | java.")
  String kernel;

  @Option(names = "--rounds", description = "Override the job's length with this many rounds.")
  Long rounds;

  @Option(names = {"-q", "--quiet"}, description = "Print only the summary.")
  boolean quiet;

  @Override
  public Integer call() {
    if (!local) {
      throw new UserError("distributed training is not available in this build yet;"
          + " run the reference trainer with --local");
    }
    KernelChoice kernelChoice = kernel == null ? null : parseKernel(kernel);
    JobSpec spec = JobSpecParser.parse(job);
    if (kernelChoice != null) {
      spec = spec.withKernel(kernelChoice);
    }
    if (rounds != null) {
      if (rounds <= 0) {
        throw new UserError("--rounds = " + rounds + ": must be a whole number > 0");
      }
      spec = spec.withLength(new TrainingLength.Rounds(rounds));
    }
    int threads = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
    if (threads <= 0) {
      throw new UserError("--workers = " + threads + ": must be a whole number > 0");
    }
    TrainingResult result = ReferenceRun.run(spec, job.toString(), threads,
        ProgressBar.forConsole(quiet));
    ReferenceRun.write(result, out);
    System.out.println(ReferenceRun.summary(result));
    System.out.println("result written to " + out);
    return 0;
  }

  static KernelChoice parseKernel(String value) {
    try {
      return KernelChoice.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UserError("--kernel = " + value + ": must be one of auto | native | java");
    }
  }
}
