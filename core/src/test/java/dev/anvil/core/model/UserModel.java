package dev.anvil.core.model;

import dev.anvil.core.data.DataShape;
import dev.anvil.core.kernel.Kernel;

/** A user's own model, as a job names it with {@code model { type = class, class = ... }}. */
public final class UserModel implements Model {
  private final DenseNetwork inner;

  public UserModel(DataShape shape, Kernel kernel) {
    this.inner = DenseNetwork.softmax(shape.features(), shape.classes(), kernel);
  }

  @Override
  public int parameterCount() {
    return inner.parameterCount();
  }

  @Override
  public void initialize(float[] params, long seed) {
    inner.initialize(params, seed);
  }

  @Override
  public boolean classifier() {
    return true;
  }

  @Override
  public Workspace newWorkspace(int maxRows) {
    return inner.newWorkspace(maxRows);
  }

  @Override
  public double gradientSum(float[] params, Batch batch, float[] grad, Workspace workspace) {
    return inner.gradientSum(params, batch, grad, workspace);
  }

  @Override
  public Evaluation evaluate(float[] params, Batch batch, Workspace workspace) {
    return inner.evaluate(params, batch, workspace);
  }

  @Override
  public String describe() {
    return "user model around " + inner.describe();
  }
}
