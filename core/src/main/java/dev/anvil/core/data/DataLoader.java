package dev.anvil.core.data;

import dev.anvil.core.random.SplitMix64;
import dev.anvil.core.spec.DataSpec;

/** Loads the data a job names, and holds out its test set where the source has none. */
public final class DataLoader {
  private static final long TEST_SPLIT = 0x7E57_5B117L;

  private DataLoader() {}

  private record Key(DataSpec spec, long seed) {}

  /**
   * Loaded data sets, shared by every job of this JVM that names the same data (a node's
   * coordinator and workers, successive jobs). Softly held: the collector may drop an entry under
   * memory pressure, and the next job loads it again.
   */
  private static final java.util.concurrent.ConcurrentHashMap<
          Key, java.lang.ref.SoftReference<TrainTestData>>
      CACHE = new java.util.concurrent.ConcurrentHashMap<>();

  /** Like {@link #load}, through this JVM's cache of loaded data sets. */
  public static TrainTestData loadShared(DataSpec spec, long jobSeed) {
    // The seed only matters for a CSV file's test split.
    Key key = new Key(spec, spec instanceof DataSpec.Csv ? jobSeed : 0);
    java.lang.ref.SoftReference<TrainTestData> ref = CACHE.get(key);
    TrainTestData data = ref == null ? null : ref.get();
    if (data == null) {
      data = load(spec, jobSeed);
      CACHE.put(key, new java.lang.ref.SoftReference<>(data));
    }
    return data;
  }

  /**
   * A quick look at the job's data files (the IDX files are there; a CSV's first rows parse), for a
   * submission to be refused at once rather than when a node loads the data. Throws the {@link
   * DataException} loading would.
   */
  public static void probe(DataSpec spec) {
    if (spec instanceof DataSpec.Idx idx) {
      IdxReader.probe(idx.path());
    } else if (spec instanceof DataSpec.Csv csv) {
      CsvReader.probe(csv.path(), csv.labelColumn());
    }
  }

  /** {@code jobSeed} seeds the test split of a CSV file; synthetic data uses its own seed. */
  public static TrainTestData load(DataSpec spec, long jobSeed) {
    if (spec instanceof DataSpec.Idx idx) {
      return IdxReader.load(idx.path());
    } else if (spec instanceof DataSpec.Csv csv) {
      Dataset all = CsvReader.read(csv.path(), csv.labelColumn());
      return split(
          all, csv.testFraction(), SplitMix64.derive(jobSeed, TEST_SPLIT), "csv " + csv.path());
    }
    DataSpec.Synthetic s = (DataSpec.Synthetic) spec;
    Dataset all = SyntheticData.generate(s.samples(), s.features(), s.classes(), s.seed());
    return split(
        all,
        s.testFraction(),
        SplitMix64.derive(s.seed(), TEST_SPLIT),
        "synthetic " + s.samples() + "x" + s.features() + ", " + s.classes() + " classes");
  }

  /** Holds out {@code round(rows * fraction)} rows (at least 1, leaving at least 1) at random. */
  static TrainTestData split(Dataset all, double fraction, long seed, String description) {
    int testRows = (int) Math.max(1, Math.min(all.rows() - 1, Math.round(all.rows() * fraction)));
    int[] order = new int[all.rows()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    new SplitMix64(seed).shuffle(order);
    int[] test = new int[testRows];
    int[] train = new int[all.rows() - testRows];
    System.arraycopy(order, 0, test, 0, testRows);
    System.arraycopy(order, testRows, train, 0, train.length);
    java.util.Arrays.sort(test);
    java.util.Arrays.sort(train);
    return new TrainTestData(all.select(train), all.select(test), description);
  }
}
