package dev.anvil.core.spec;

import java.nio.file.Path;

/** The {@code job.data} section: where the training and test samples come from. */
public sealed interface DataSpec {

  /** The IDX files of MNIST-style data sets (train-* and t10k-*, optionally gzipped). */
  record Idx(Path path) implements DataSpec {}

  /**
   * A numeric CSV file. {@code labelColumn} is a 0-based index or, with a header row, a column
   * name; a seeded {@code testFraction} of the rows is held out.
   */
  record Csv(Path path, String labelColumn, double testFraction) implements DataSpec {}

  /**
   * A learnable classification set generated from {@code seed}: Gaussian clusters, one per class.
   */
  record Synthetic(int samples, int features, int classes, long seed, double testFraction)
      implements DataSpec {}
}
