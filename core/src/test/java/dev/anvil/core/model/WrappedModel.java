package dev.anvil.core.model;

/** A test model that hands every call to a built-in one; subclasses change what they test. */
abstract class WrappedModel implements Model {
  final DenseNetwork inner;

  WrappedModel(DenseNetwork inner) {
    this.inner = inner;
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
}
