package dev.anvil.core.spec;

import java.util.List;
import java.util.OptionalInt;

/** The {@code job.model} section. Sizes left out are taken from the data. */
public sealed interface ModelSpec {

  /** Multi-layer perceptron; {@code layers} lists every width, input first, classes last. */
  record Mlp(List<Integer> layers, Activation activation) implements ModelSpec {
    public Mlp {
      layers = List.copyOf(layers);
    }
  }

  /** Multinomial logistic regression. */
  record Softmax(OptionalInt inputs, OptionalInt classes) implements ModelSpec {}

  /** Linear regression with mean squared error; reports test loss instead of accuracy. */
  record Linear(OptionalInt inputs, OptionalInt outputs) implements ModelSpec {}

  /** A user's own {@code dev.anvil.core.model.Model} implementation, by class name. */
  record Custom(String className) implements ModelSpec {}

  default String typeName() {
    if (this instanceof Mlp) {
      return "mlp";
    } else if (this instanceof Softmax) {
      return "softmax";
    } else if (this instanceof Linear) {
      return "linear";
    }
    return "class";
  }
}
