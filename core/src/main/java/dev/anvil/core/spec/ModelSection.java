package dev.anvil.core.spec;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Reads a job's {@code job.model} section: an MLP, softmax or linear model of the project's own, or
 * a user's class. A job from elsewhere may only name a class on the node's allow list.
 */
final class ModelSection {
  private static final String CLASS_NAME = "[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*";

  private ModelSection() {}

  /** The model, or a placeholder with problems recorded in {@code r}. */
  static ModelSpec read(SpecReader r, SpecRules rules, boolean untrusted) {
    if (!r.section("job.model")) {
      return new ModelSpec.Custom("");
    }
    String type = r.choice("job.model.type", null, List.of("mlp", "softmax", "linear", "class"));
    if (type == null) {
      return new ModelSpec.Custom("");
    }
    switch (type) {
      case "mlp":
        {
          r.rejectUnknownKeys("job.model", Set.of("type", "layers", "activation"));
          List<Integer> layers = r.positiveIntList("job.model.layers", 2);
          Activation activation =
              r.choice("job.model.activation", "relu", List.of("relu", "tanh"), Activation.class);
          return new ModelSpec.Mlp(layers, activation);
        }
      case "softmax":
        r.rejectUnknownKeys("job.model", Set.of("type", "inputs", "classes"));
        return new ModelSpec.Softmax(
            optionalInt(r.optionalPositiveInt("job.model.inputs")),
            optionalInt(r.optionalPositiveInt("job.model.classes")));
      case "linear":
        r.rejectUnknownKeys("job.model", Set.of("type", "inputs", "outputs"));
        return new ModelSpec.Linear(
            optionalInt(r.optionalPositiveInt("job.model.inputs")),
            optionalInt(r.optionalPositiveInt("job.model.outputs")));
      default:
        return readClass(r, rules, untrusted);
    }
  }

  /** A user's model class: a valid class name and, for a job from elsewhere, an allowed one. */
  private static ModelSpec readClass(SpecReader r, SpecRules rules, boolean untrusted) {
    r.rejectUnknownKeys("job.model", Set.of("type", "class"));
    String className = r.string("job.model.class", null);
    if (r.has("job.model.class") && !className.matches(CLASS_NAME)) {
      r.problem(
          "job.model.class",
          r.render("job.model.class"),
          "a fully qualified Java class name implementing dev.anvil.core.model.Model");
    } else if (untrusted
        && r.has("job.model.class")
        && !rules.allowedClasses().contains(className)) {
      r.problem(
          "job.model.class",
          r.render("job.model.class"),
          "not a class this node"
              + " allows in jobs sent to it; its operator lists them in"
              + " anvil.models.allowed-classes");
    }
    return new ModelSpec.Custom(className);
  }

  private static OptionalInt optionalInt(Optional<Integer> v) {
    return v.map(OptionalInt::of).orElse(OptionalInt.empty());
  }
}
