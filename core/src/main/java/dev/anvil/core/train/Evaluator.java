package dev.anvil.core.train;

import dev.anvil.core.data.Dataset;
import dev.anvil.core.model.Batch;
import dev.anvil.core.model.Evaluation;
import dev.anvil.core.model.Model;

/**
 * Loss and accuracy of parameters on a data set, in fixed chunks and order. Owned by one thread.
 */
public final class Evaluator {
  private static final int CHUNK = 256;

  private final Model model;
  private final Dataset data;
  private final Batch batch;
  private final Model.Workspace workspace;

  public Evaluator(Model model, Dataset data) {
    this.model = model;
    this.data = data;
    this.batch = new Batch(CHUNK, data.features(), data.outputs());
    this.workspace = model.newWorkspace(CHUNK);
  }

  public Evaluation evaluate(float[] params) {
    Evaluation total = Evaluation.EMPTY;
    for (int from = 0; from < data.rows(); from += CHUNK) {
      int count = Math.min(CHUNK, data.rows() - from);
      total = total.plus(model.evaluate(params, batch.fillRange(data, from, count), workspace));
    }
    return total;
  }
}
