package dev.anvil.runtime.node;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.client.ClusterLostException;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedding service's node is downed while it follows a job it submitted: the job's {@link
 * JobHandle} must fail with a {@link ClusterLostException} that says so, within 30 s, instead of
 * waiting for an outcome that can no longer reach it.
 */
class JobHandleLossTest {
  @TempDir Path dir;

  @Test
  void aDownedNodesJobHandleFailsWithClusterLost() throws Exception {
    JobSpec spec = TestJobs.faultJob("downed", 1_000_000);
    try (SingleNode anvil =
        SingleNode.start(dir, Map.of("anvil.worker.slots", 1, "anvil.http.enabled", false))) {
      boolean[] progress = {false};
      JobHandle job =
          anvil
              .node()
              .submit(
                  "downed",
                  spec,
                  1,
                  new JobListener() {
                    @Override
                    public void onProgress(
                        long round, long total, double loss, double samplesPerSecond) {
                      synchronized (progress) {
                        progress[0] = true;
                        progress.notifyAll();
                      }
                    }
                  });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      synchronized (progress) {
        while (!progress[0] && System.nanoTime() < deadline) {
          progress.wait(1000);
        }
      }
      assertTrue(progress[0], "the job never reported progress");
      Cluster cluster = Cluster.get(anvil.node().system());
      long downed = System.nanoTime();
      cluster.manager().tell(Down.apply(cluster.selfMember().address()));
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () -> job.result().toCompletableFuture().get(30, TimeUnit.SECONDS));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downed);
      assertInstanceOf(ClusterLostException.class, e.getCause(), e::toString);
      assertTrue(
          e.getCause().getMessage().contains("was downed by the cluster"),
          e.getCause().getMessage());
      System.out.println(
          "downed node: the job's handle failed after "
              + millis
              + " ms: "
              + e.getCause().getMessage());
    }
  }
}
