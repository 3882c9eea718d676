package dev.anvil.core.spec;

/** The {@code job.schedule} section: the learning rate as a function of the round. */
public sealed interface ScheduleSpec {

  /** The optimizer's learning rate throughout. */
  record Constant() implements ScheduleSpec {}

  /** Multiply the learning rate by {@code gamma} every {@code everyEpochs} epochs. */
  record Step(int everyEpochs, double gamma) implements ScheduleSpec {}

  /** Cosine decay from the optimizer's learning rate to {@code finalLearningRate} over the job. */
  record Cosine(double finalLearningRate) implements ScheduleSpec {}
}
