package dev.anvil.core.model;

/**
 * A trainable model over a flat {@code float[]} parameter vector. Users may implement it (job spec
 * {@code model { type = class, class = "..." }}).
 *
 * <p>Determinism contract: {@link #gradientSum} must be a pure function of (params, batch) that
 * gives the same bits on every call, on any thread: no shared mutable state except the {@link
 * Workspace} it is handed, no unseeded randomness, {@link StrictMath} for transcendental functions,
 * and no multi-threading inside.
 */
public interface Model {

  /** Length of the parameter vector. */
  int parameterCount();

  /** Writes the initial parameters for {@code seed} into {@code params}. */
  void initialize(float[] params, long seed);

  /** True when the model predicts classes (reports accuracy); false for regression. */
  boolean classifier();

  /** Per-thread scratch memory for batches of up to {@code maxRows} samples. */
  Workspace newWorkspace(int maxRows);

  /**
   * Overwrites {@code grad} with the sum over the batch's samples of the gradient of each sample's
   * loss, and returns the sum of the samples' losses.
   */
  double gradientSum(float[] params, Batch batch, float[] grad, Workspace workspace);

  /** Loss sum and correct predictions over the batch, without gradients. */
  Evaluation evaluate(float[] params, Batch batch, Workspace workspace);

  /**
   * The stacked path (several shards' rows in one pass), or null when this model computes one shard
   * at a time. User models compute shard by shard unless they implement it.
   */
  default Stacking stacking() {
    return null;
  }

  /** Short human description, e.g. "mlp 784-128-10 relu (101770 parameters)". */
  String describe();

  /** Scratch memory owned by one thread. */
  interface Workspace {
    Workspace NONE = new Workspace() {};
  }
}
