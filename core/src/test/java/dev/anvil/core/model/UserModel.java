package dev.anvil.core.model;

import dev.anvil.core.data.DataShape;
import dev.anvil.core.kernel.Kernel;

/** A user's own model, as a job names it with {@code model { type = class, class = ... }}. */
public final class UserModel extends WrappedModel {

  public UserModel(DataShape shape, Kernel kernel) {
    super(DenseNetwork.softmax(shape.features(), shape.classes(), kernel));
  }

  @Override
  public String describe() {
    return "user model around " + inner.describe();
  }
}
