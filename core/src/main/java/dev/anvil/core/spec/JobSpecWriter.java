package dev.anvil.core.spec;

import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Renders a {@link JobSpec} back to HOCON with every field explicit and data paths absolute: the
 * form a job travels in to other nodes and is stored in. Parsing the output gives an equal spec.
 */
public final class JobSpecWriter {
  private JobSpecWriter() {}

  public static String toHocon(JobSpec s) {
    StringBuilder b = new StringBuilder("job {\n");
    line(b, "name", quote(s.name()));
    line(b, "seed", Long.toString(s.seed()));
    line(b, "model", model(s.model()));
    line(b, "data", data(s.data()));
    line(b, "optimizer", optimizer(s.optimizer()));
    line(b, "schedule", schedule(s.schedule()));
    line(b, "clip-norm", num(s.clipNorm()));
    line(b, "batch-size", Integer.toString(s.batchSize()));
    line(b, "logical-shards", Integer.toString(s.logicalShards()));
    if (s.length() instanceof TrainingLength.Epochs e) {
      line(b, "epochs", Integer.toString(e.epochs()));
    } else {
      line(b, "rounds", Long.toString(((TrainingLength.Rounds) s.length()).rounds()));
    }
    line(b, "kernel", lower(s.kernel().name()));
    line(
        b,
        "checkpoint",
        "{ every-rounds = "
            + s.checkpoint().everyRounds()
            + ", mode = "
            + lower(s.checkpoint().mode().name())
            + " }");
    return b.append("}\n").toString();
  }

  private static void line(StringBuilder b, String key, String value) {
    b.append("  ").append(key).append(" = ").append(value).append('\n');
  }

  private static String model(ModelSpec m) {
    if (m instanceof ModelSpec.Mlp mlp) {
      return "{ type = mlp, layers = "
          + mlp.layers().stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"))
          + ", activation = "
          + lower(mlp.activation().name())
          + " }";
    } else if (m instanceof ModelSpec.Softmax sm) {
      return "{ type = softmax" + opt("inputs", sm.inputs()) + opt("classes", sm.classes()) + " }";
    } else if (m instanceof ModelSpec.Linear lin) {
      return "{ type = linear" + opt("inputs", lin.inputs()) + opt("outputs", lin.outputs()) + " }";
    }
    return "{ type = class, class = " + quote(((ModelSpec.Custom) m).className()) + " }";
  }

  private static String opt(String key, java.util.OptionalInt v) {
    return v.isPresent() ? ", " + key + " = " + v.getAsInt() : "";
  }

  private static String data(DataSpec d) {
    if (d instanceof DataSpec.Idx idx) {
      return "{ type = idx, path = " + quote(idx.path().toAbsolutePath().toString()) + " }";
    } else if (d instanceof DataSpec.Csv csv) {
      return "{ type = csv, path = "
          + quote(csv.path().toAbsolutePath().toString())
          + ", label-column = "
          + quote(csv.labelColumn())
          + ", test-fraction = "
          + num(csv.testFraction())
          + " }";
    }
    DataSpec.Synthetic s = (DataSpec.Synthetic) d;
    return "{ type = synthetic, samples = "
        + s.samples()
        + ", features = "
        + s.features()
        + ", classes = "
        + s.classes()
        + ", seed = "
        + s.seed()
        + ", test-fraction = "
        + num(s.testFraction())
        + " }";
  }

  private static String optimizer(OptimizerSpec o) {
    if (o instanceof OptimizerSpec.Sgd sgd) {
      return "{ type = sgd, learning-rate = "
          + num(sgd.learningRate())
          + ", momentum = "
          + num(sgd.momentum())
          + ", nesterov = "
          + sgd.nesterov()
          + ", weight-decay = "
          + num(sgd.weightDecay())
          + " }";
    }
    OptimizerSpec.Adam a = (OptimizerSpec.Adam) o;
    return "{ type = adam, learning-rate = "
        + num(a.learningRate())
        + ", beta1 = "
        + num(a.beta1())
        + ", beta2 = "
        + num(a.beta2())
        + ", epsilon = "
        + num(a.epsilon())
        + ", weight-decay = "
        + num(a.weightDecay())
        + " }";
  }

  private static String schedule(ScheduleSpec s) {
    if (s instanceof ScheduleSpec.Step step) {
      return "{ type = step, every-epochs = "
          + step.everyEpochs()
          + ", gamma = "
          + num(step.gamma())
          + " }";
    } else if (s instanceof ScheduleSpec.Cosine cos) {
      return "{ type = cosine, final-learning-rate = " + num(cos.finalLearningRate()) + " }";
    }
    return "{ type = constant }";
  }

  /** A double that parses back to the same double. */
  private static String num(double d) {
    return Double.toString(d);
  }

  private static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
