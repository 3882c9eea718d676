package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.PlaneCompute;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.protocol.TrainingProtocol.WorkerReply;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.train.TreeNode;
import dev.anvil.runtime.client.ClusterClient;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.node.SingleNode;
import dev.anvil.testsupport.HostileSpecs;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages a worker gets over a real Artery connection from another member: hostile job specs are
 * refused within a second with a reason that holds no secret, malformed work requests are dropped,
 * and the worker goes on training the job it has (reference bits, no recovery).
 */
class HostileMessagesTest {
  static final String VALID = HostileSpecs.job(HostileSpecs.MLP, HostileSpecs.SYNTHETIC);

  @TempDir static Path dir;
  static SingleNode anvil;
  static ActorSystem<Void> other;

  @BeforeAll
  static void start() throws Exception {
    Path data = HostileSpecs.prepare(dir);
    anvil =
        SingleNode.start(
            dir,
            Map.of("anvil.worker.slots", 2, "anvil.data.allowed-roots", List.of(data.toString())));
    var address = anvil.node().system().address();
    other =
        ClusterClient.join(
            List.of(address.getHost().get() + ":" + address.getPort().get()),
            Duration.ofSeconds(30),
            ConfigFactory.empty());
  }

  @AfterAll
  static void stop() {
    System.clearProperty("anvil.test.secret");
    if (other != null) {
      other.terminate();
      other.getWhenTerminated().toCompletableFuture().join();
    }
    if (anvil != null) {
      anvil.close();
    }
  }

  static List<ActorRef<WorkerCommand>> workers() {
    TestProbe<Receptionist.Listing> listing = TestProbe.create(other);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      other.receptionist().tell(Receptionist.find(TrainingProtocol.WORKERS, listing.ref()));
      var found =
          new ArrayList<>(listing.receiveMessage().getServiceInstances(TrainingProtocol.WORKERS));
      if (found.size() == 2) {
        return found;
      }
      assertTrue(System.nanoTime() < deadline, "workers listed: " + found);
      listing.expectNoMessage(Duration.ofMillis(200)); // the listing spreads by gossip
    }
  }

  @Test
  void hostileSpecsAreRefusedWithinASecondAndTheWorkerStillPrepares() throws Exception {
    ActorRef<WorkerCommand> worker = workers().get(0);
    TestProbe<WorkerReply> replies = TestProbe.create(other);
    int n = 0;
    for (var hostile : HostileSpecs.all(dir).entrySet()) {
      String spec = hostile.getValue();
      String id = "hostile-" + n++;
      long start = System.nanoTime();
      worker.tell(new PrepareJob(id, 1, spec, replies.ref()));
      PrepareFailed failed = replies.expectMessageClass(PrepareFailed.class, Duration.ofSeconds(5));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertEquals(id, failed.jobId());
      assertTrue(millis < 1000, hostile.getKey() + " took " + millis + " ms");
      HostileSpecs.assertClean(failed.reason());
    }
    worker.tell(new PrepareJob("fine", 1, VALID, replies.ref()));
    assertEquals(
        "fine", replies.expectMessageClass(Prepared.class, Duration.ofSeconds(30)).jobId());
    worker.tell(new TrainingProtocol.ReleaseJob("fine"));
  }

  @Test
  void malformedWorkIsDroppedAndTheJobEndsWithTheReferenceBits() throws Exception {
    // Long enough that the job is still running when the workers have read the malformed work:
    // a worker that has left a job answers work for it with PrepareFailed, which is no drop.
    String longJob = HostileSpecs.job(HostileSpecs.MLP, HostileSpecs.SYNTHETIC, "  rounds = 4000");
    JobSpec spec = JobSpecParser.parse(longJob, "job", null);
    String reference = TestJobs.referenceHash(spec);
    var rounds = new java.util.concurrent.atomic.AtomicLong();
    var outcome =
        JobClient.submit(
                other,
                "victim",
                spec,
                2,
                u -> {
                  if (u instanceof dev.anvil.coordinator.JobProtocol.Progress p) {
                    rounds.set(p.round());
                  }
                })
            .toCompletableFuture();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (rounds.get() < 5) {
      assertTrue(System.nanoTime() < deadline && !outcome.isDone(), "no round committed");
      TimeUnit.MILLISECONDS.sleep(20); // polling the listener's latest round
    }
    TestProbe<WorkerReply> replies = TestProbe.create(other);
    int parameters = PreparedJob.prepare(spec, "ref").model().parameterCount();
    List<WorkerCommand> malformed = new ArrayList<>();
    for (long epoch = 1; epoch <= 3; epoch++) {
      long round = rounds.get() + 1;
      TreeNode leaf = new TreeNode(0, 0);
      malformed.add(
          new ComputeNodes(
              "victim", epoch, round, new float[5], new TreeNode[] {leaf}, replies.ref()));
      malformed.add(
          new ComputeNodes("victim", epoch, round, new float[parameters], null, replies.ref()));
      malformed.add(
          new ComputeNodes(
              "victim",
              epoch,
              round,
              new float[parameters],
              new TreeNode[] {new TreeNode(40, 0)},
              replies.ref()));
      malformed.add(
          new ComputeNodes(
              "victim",
              epoch,
              round,
              new float[parameters],
              new TreeNode[] {new TreeNode(0, 999)},
              replies.ref()));
      malformed.add(
          new ComputeNodes(
              "victim", epoch, round, new float[parameters], new TreeNode[] {null}, replies.ref()));
      malformed.add(
          new ComputeNodes(
              "victim", epoch, -1, new float[parameters], new TreeNode[] {leaf}, replies.ref()));
      malformed.add(
          new ComputeNodes(
              "victim",
              epoch,
              1L << 40,
              new float[parameters],
              new TreeNode[] {leaf},
              replies.ref()));
      malformed.add(
          new ComputeNodes(
              "victim",
              epoch + 100,
              round,
              new float[parameters],
              new TreeNode[] {leaf},
              replies.ref()));
      malformed.add(
          new ComputeNodes(
              null, epoch, round, new float[parameters], new TreeNode[] {leaf}, replies.ref()));
      malformed.addAll(malformedPlaneRounds(epoch, round, parameters, replies.ref()));
    }
    TestProbe<WorkerReply> marker = TestProbe.create(other);
    int n = 0;
    for (ActorRef<WorkerCommand> w : workers()) {
      malformed.forEach(w::tell);
      // Sent after the malformed work on the same connection, so answered after it was read.
      w.tell(new PrepareJob("marker-" + n++, 1, "not a job", marker.ref()));
      marker.expectMessageClass(PrepareFailed.class, Duration.ofSeconds(10));
    }
    assertFalse(outcome.isDone(), "the job ended before its workers read the malformed work");
    JobClient.Outcome o = outcome.get(120, TimeUnit.SECONDS);
    assertTrue(o.succeeded(), o::toString);
    JsonNode result = new ObjectMapper().readTree(o.resultJson());
    assertEquals(reference, result.get("paramsSha256").asText(), result::toString);
    assertEquals(0, result.path("recoveries").size(), result::toString);
    replies.expectNoMessage(Duration.ofMillis(200));
  }

  /** Data-plane rounds no coordinator sends: each is dropped before it computes or connects. */
  private static List<PlaneCompute> malformedPlaneRounds(
      long epoch, long round, int parameters, ActorRef<WorkerReply> to) {
    TreeNode[] whole = new ReductionTree(6).cover(0, 6).toArray(TreeNode[]::new);
    TreeNode[] twice = java.util.Arrays.copyOf(whole, whole.length + 1);
    twice[whole.length] = TreeNode.leaf(0);
    String[] two = {"127.0.0.1:9", "127.0.0.1:9"};
    int[] one = {whole.length};
    TrainingState small = new TrainingState(round, new float[5], OptimizerState.initial(0, 5));
    return List.of(
        new PlaneCompute(
            "victim",
            epoch,
            round,
            1,
            0,
            two,
            new TreeNode[] {TreeNode.leaf(0)},
            new int[] {1},
            null,
            to),
        new PlaneCompute(
            "victim", epoch, round, 1, 0, two, twice, new int[] {twice.length}, null, to),
        new PlaneCompute(
            "victim", epoch, round, 1, 0, new String[] {"127.0.0.1:9"}, whole, one, null, to),
        new PlaneCompute(
            "victim", epoch, round, 1, 0, new String[] {"no port", "x:0"}, whole, one, null, to),
        new PlaneCompute("victim", epoch, round, 1, 5, two, whole, one, null, to),
        new PlaneCompute("victim", epoch, round, -1, 0, two, whole, one, null, to),
        new PlaneCompute("victim", epoch, round, 1, 0, two, whole, new int[] {1, 2}, null, to),
        new PlaneCompute("victim", epoch, round, 1, 0, two, whole, one, small, to),
        new PlaneCompute(null, epoch, round, 1, 0, two, whole, one, null, to));
  }
}
