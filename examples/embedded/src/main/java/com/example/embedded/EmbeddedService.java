package com.example.embedded;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.node.AnvilNode;
import dev.anvil.runtime.node.JobHandle;
import dev.anvil.runtime.node.JobListener;
import dev.anvil.runtime.node.NodeSettings;
import dev.anvil.runtime.node.SingleNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A service that trains its own model with Anvil inside its own JVM: it starts an embedded
 * PostgreSQL for the journal (a real service would point {@code anvil.persistence.url} at its
 * database), starts an Anvil node that forms a one-node cluster (give it seed nodes to join a
 * bigger one), submits a job naming {@link SoftmaxRegression}, follows its progress, and leaves the
 * cluster gracefully when it closes.
 */
public final class EmbeddedService implements AutoCloseable {
  /** The job the service trains: its own model on a generated data set. */
  static final String JOB =
      """
      job {
        name = "embedded-softmax"
        seed = 17
        model { type = class, class = "com.example.embedded.SoftmaxRegression" }
        data { type = synthetic, samples = 6000, features = 20, classes = 5, seed = 8 }
        optimizer { type = sgd, learning-rate = 0.1, momentum = 0.9 }
        batch-size = 100
        logical-shards = 10
        epochs = 4
        kernel = java
        checkpoint { every-rounds = 50 }
      }
      """;

  private final SingleNode anvil;

  private EmbeddedService(SingleNode anvil) {
    this.anvil = anvil;
  }

  /**
   * Starts the database and the node (two worker slots, no HTTP API), keeping their files in {@code
   * dir}. The node treats every job it gets as coming from elsewhere, so the service's own model
   * class is on its allowed classes. {@link SingleNode} is the short way; with the service's own
   * database it would be {@code AnvilNode.start(settings().database(url, user, password).build())}.
   */
  public static EmbeddedService start(Path dir) {
    return new EmbeddedService(SingleNode.start(dir, settings()));
  }

  /** The node's settings, all but the database. */
  static NodeSettings.Builder settings() {
    return NodeSettings.builder().slots(2).httpOff().allowModelClasses(SoftmaxRegression.class);
  }

  public JobSpec spec() {
    return JobSpecParser.parse(JOB, "embedded-softmax", null);
  }

  /**
   * Trains the service's model and returns the result; progress goes to {@code listener}, called on
   * one of the node's actor threads (it must not block: {@link JobListener}).
   */
  public TrainingResult train(JobListener listener, Duration timeout) throws Exception {
    JobHandle job =
        anvil.node().submit("embedded-softmax-" + System.currentTimeMillis(), spec(), 2, listener);
    return job.result().toCompletableFuture().get(timeout.toSeconds(), TimeUnit.SECONDS);
  }

  public AnvilNode node() {
    return anvil.node();
  }

  /** Leaves the cluster gracefully, then stops the database. */
  @Override
  public void close() {
    anvil.close();
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "target/embedded-service");
    try (EmbeddedService service = start(dir)) {
      System.out.println("Anvil node up at " + service.node().address());
      TrainingResult r =
          service.train(
              new JobListener() {
                private long shown;

                @Override
                public void onProgress(
                    long round, long total, double loss, double samplesPerSecond) {
                  if (round * 10 / total > shown) {
                    shown = round * 10 / total;
                    System.out.printf(
                        Locale.ROOT,
                        "round %d/%d, loss %.4f, %.0f samples/s%n",
                        round,
                        total,
                        loss,
                        samplesPerSecond);
                  }
                }
              },
              Duration.ofMinutes(5));
      System.out.printf(
          Locale.ROOT,
          "%s: test accuracy %.4f, paramsSha256 %s%n",
          r.model(),
          r.testAccuracy(),
          r.paramsSha256());
    }
  }
}
