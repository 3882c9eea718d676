package dev.anvil.runtime.client;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that joined a running cluster from outside (as {@code anvil train --cluster} does: no
 * launcher tells it anything) follows a job when the cluster's only node is killed with SIGKILL.
 * With no node left, its wait must end with a {@link ClusterLostException} within 30 s of the kill,
 * not hang: the split-brain resolver downs the clients (no `node` member is left on their side), or
 * else {@code anvil.client.lost-after} (15 s without a reachable node) ends it.
 */
class ClusterLossTest {
  @TempDir Path dir;

  @Test
  void aClientWhoseNodesAreAllGoneEndsItsWaitsWithin30s() throws Exception {
    JobSpec spec = TestJobs.faultJob("orphaned", 5_000_000);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(1, 1, dir))) {
      ActorSystem<Void> outsider =
          ClusterClient.join(
              cluster.addresses(), Duration.ofSeconds(30), ClusterClient.tls(cluster.tlsFolder()));
      try {
        CountDownLatch training = new CountDownLatch(1);
        CompletableFuture<JobClient.Outcome> outcome =
            JobClient.submit(
                    outsider,
                    "orphaned",
                    spec,
                    1,
                    u -> {
                      if (u instanceof dev.anvil.coordinator.JobProtocol.Progress) {
                        training.countDown();
                      }
                    })
                .toCompletableFuture();
        assertTrue(training.await(90, TimeUnit.SECONDS), "the job never trained");
        long killed = System.nanoTime();
        cluster.kill(0);
        ExecutionException e =
            assertThrows(ExecutionException.class, () -> outcome.get(30, TimeUnit.SECONDS));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed);
        assertInstanceOf(ClusterLostException.class, e.getCause(), e::toString);
        // Keep-majority (role node) has the clients down themselves when no node is reachable;
        // were it to decide nothing, lost-after (15 s without a reachable node) would end it.
        String m = e.getCause().getMessage();
        assertTrue(
            m.contains("was downed by the cluster")
                || m.contains("no reachable node in the cluster for 15 s"),
            m);
        System.out.println(
            "no node left: the outside client's wait ended after "
                + seconds
                + " s: "
                + e.getCause().getMessage());
      } finally {
        outsider.terminate();
      }
    }
  }
}
