package dev.anvil.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One model's figures over ClusterThroughputBench's repeats, in repeat order: samples/s of each
 * configuration (NaN for a failed run), the cluster's round time splits, every distinct
 * paramsSha256 seen and each repeat whose local hash differed from the cluster's.
 */
record ThroughputRow(
    String model,
    String layers,
    List<Double> cluster,
    List<Double> local,
    List<Double> ddp,
    List<Map<String, Double>> splits,
    Set<String> hashes,
    List<String> hashProblems) {
  /** A row with no figures yet for the model {@code model} of MLP layers {@code layers}. */
  ThroughputRow(String model, String layers) {
    this(
        model,
        layers,
        new ArrayList<>(),
        new ArrayList<>(),
        new ArrayList<>(),
        new ArrayList<>(),
        new LinkedHashSet<>(),
        new ArrayList<>());
  }
}
