package dev.anvil.core.spec;

import java.util.List;
import java.util.Set;

/**
 * Reads how a job updates its parameters: the {@code job.optimizer} section (SGD or Adam) and the
 * optional {@code job.schedule} of its learning rate (constant when absent).
 */
final class OptimizerSection {
  private OptimizerSection() {}

  /** The optimizer, or a placeholder with problems recorded in {@code r}. */
  static OptimizerSpec readOptimizer(SpecReader r) {
    if (!r.section("job.optimizer")) {
      return new OptimizerSpec.Sgd(1, 0, false, 0);
    }
    String type = r.choice("job.optimizer.type", null, List.of("sgd", "adam"));
    if (type == null) {
      return new OptimizerSpec.Sgd(1, 0, false, 0);
    }
    double lr =
        r.number(
            "job.optimizer.learning-rate",
            null,
            v -> v > 0 && Double.isFinite(v),
            "a finite number > 0");
    double weightDecay =
        r.number(
            "job.optimizer.weight-decay",
            0.0,
            v -> v >= 0 && Double.isFinite(v),
            "a finite number >= 0");
    return type.equals("sgd") ? readSgd(r, lr, weightDecay) : readAdam(r, lr, weightDecay);
  }

  private static OptimizerSpec readSgd(SpecReader r, double lr, double weightDecay) {
    r.rejectUnknownKeys(
        "job.optimizer", Set.of("type", "learning-rate", "momentum", "nesterov", "weight-decay"));
    double momentum =
        r.number("job.optimizer.momentum", 0.0, v -> v >= 0 && v < 1, "a number >= 0 and < 1");
    boolean nesterov = r.bool("job.optimizer.nesterov", false);
    if (nesterov && momentum == 0.0) {
      r.problem("job.optimizer.nesterov", "true", "needs job.optimizer.momentum > 0");
    }
    return new OptimizerSpec.Sgd(lr, momentum, nesterov, weightDecay);
  }

  private static OptimizerSpec readAdam(SpecReader r, double lr, double weightDecay) {
    r.rejectUnknownKeys(
        "job.optimizer",
        Set.of("type", "learning-rate", "beta1", "beta2", "epsilon", "weight-decay"));
    double beta1 =
        r.number("job.optimizer.beta1", 0.9, v -> v >= 0 && v < 1, "a number >= 0 and < 1");
    double beta2 =
        r.number("job.optimizer.beta2", 0.999, v -> v >= 0 && v < 1, "a number >= 0 and < 1");
    double epsilon =
        r.number(
            "job.optimizer.epsilon", 1e-8, v -> v > 0 && Double.isFinite(v), "a finite number > 0");
    return new OptimizerSpec.Adam(lr, beta1, beta2, epsilon, weightDecay);
  }

  /** The learning-rate schedule; constant when the section is absent or invalid. */
  static ScheduleSpec readSchedule(SpecReader r) {
    if (!r.has("job.schedule")) {
      return new ScheduleSpec.Constant();
    }
    if (!r.section("job.schedule")) {
      return new ScheduleSpec.Constant();
    }
    String type = r.choice("job.schedule.type", "constant", List.of("constant", "step", "cosine"));
    switch (type == null ? "constant" : type) {
      case "step":
        {
          r.rejectUnknownKeys("job.schedule", Set.of("type", "every-epochs", "gamma"));
          int every =
              r.wholeNumberInt("job.schedule.every-epochs", null, v -> v > 0, "a whole number > 0");
          double gamma =
              r.number("job.schedule.gamma", 0.1, v -> v > 0 && v <= 1, "a number > 0 and <= 1");
          return new ScheduleSpec.Step(every, gamma);
        }
      case "cosine":
        {
          r.rejectUnknownKeys("job.schedule", Set.of("type", "final-learning-rate"));
          double end =
              r.number(
                  "job.schedule.final-learning-rate",
                  0.0,
                  v -> v >= 0 && Double.isFinite(v),
                  "a finite number >= 0");
          return new ScheduleSpec.Cosine(end);
        }
      default:
        r.rejectUnknownKeys("job.schedule", Set.of("type"));
        return new ScheduleSpec.Constant();
    }
  }
}
