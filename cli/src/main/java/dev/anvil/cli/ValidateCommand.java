package dev.anvil.cli;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.PreparedJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anvil validate --job FILE}: checks a job file (and its data) without training. */
@Command(name = "validate", description = "Check a job file and its data without training.")
final class ValidateCommand implements Callable<Integer> {
  @Option(names = "--job", required = true, description = "Job file (HOCON).")
  Path job;

  @Option(names = "--spec-only", description = "Do not load the data (check the file alone).")
  boolean specOnly;

  @Override
  public Integer call() {
    JobSpec spec = JobSpecParser.parse(job);
    if (!specOnly) {
      PreparedJob prepared = PreparedJob.prepare(spec, job.toString());
      System.out.printf(
          "%s: valid. %s; %d training samples, %d test samples; %d rounds"
              + " (%d per epoch); kernel %s%n",
          job,
          prepared.model().describe(),
          prepared.data().train().rows(),
          prepared.data().test().rows(),
          prepared.totalRounds(),
          prepared.roundsPerEpoch(),
          prepared.kernel().name());
    } else {
      System.out.println(job + ": valid.");
    }
    return 0;
  }
}
