package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;

/**
 * One in-process cluster member for coordinator tests: an {@link ActorTestKit} whose system is a
 * Pekko cluster member on 127.0.0.1 (a free port), with the wire format of a node (every module's
 * {@code reference.conf}: Anvil's Kryo serializer, registration required), every local message
 * serialized as if it crossed the network, and the persistence testkit's in-memory journal in place
 * of PostgreSQL.
 */
final class TestNode implements AutoCloseable {
  /** Members of one cluster share the actor system's name. */
  private static final String SYSTEM = "anvil";

  private static final Duration CLUSTER_WAIT = Duration.ofSeconds(20);

  /**
   * What differs from a node's own settings (runtime's anvil-node.conf): the journal, shorter
   * coordinator timeouts (a round's deadline is 100 ms, an unacknowledged journal write is sent
   * again after 500 ms) and two checkpoints kept.
   */
  private static final String SETTINGS =
      """
      pekko {
        loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
        logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
        log-dead-letters = off
        actor {
          provider = cluster
          # Local messages go through their serializer too, as between nodes. The journal
          # recorder's commands and answers are local by design (JournalCommands: not
          # serializable).
          serialize-messages = on
          no-serialization-verification-needed-class-prefix =
            ["org.apache.pekko.", "dev.anvil.coordinator.JobJournal$",
             "dev.anvil.coordinator.JournalCommands$"]
        }
        remote.artery {
          canonical { hostname = "127.0.0.1", port = 0 }
          advanced.maximum-frame-size = 16MiB
        }
        cluster {
          jmx.enabled = off
          gossip-interval = 250ms
          leader-actions-interval = 250ms
          unreachable-nodes-reaper-interval = 250ms
          distributed-data { gossip-interval = 250ms, notify-subscribers-interval = 50ms }
        }
      }
      anvil.coordinator {
        recruit-timeout = 15s
        deadline { minimum = 100ms, multiplier = 5 }
        journal-ack-timeout = 500ms
      }
      anvil.checkpoint { keep = 2, delete-old-events = off }
      """;

  private final ActorTestKit kit;
  private final PersistenceTestKit journal;

  private TestNode(Map<String, ?> overrides) {
    Config config =
        ConfigFactory.parseMap(overrides)
            .withFallback(ConfigFactory.parseString(SETTINGS))
            .withFallback(PersistenceTestKitPlugin.getInstance().config())
            .withFallback(PersistenceTestKitSnapshotPlugin.getInstance().config());
    this.kit = ActorTestKit.create(SYSTEM, ConfigFactory.load(config));
    this.journal = PersistenceTestKit.create(kit.system());
  }

  /** A node that forms a cluster of its own; {@code overrides} win over the test settings. */
  static TestNode first(Map<String, ?> overrides) {
    TestNode node = new TestNode(overrides);
    node.cluster().manager().tell(Join.create(node.cluster().selfMember().address()));
    node.awaitUpMembers(1);
    return node;
  }

  /** A node with the same settings that joins this node's cluster. */
  TestNode join(Map<String, ?> overrides) {
    int members = members().size() + 1;
    TestNode node = new TestNode(overrides);
    node.cluster().manager().tell(Join.create(cluster().selfMember().address()));
    node.awaitUpMembers(members);
    awaitUpMembers(members);
    return node;
  }

  ActorTestKit kit() {
    return kit;
  }

  Cluster cluster() {
    return Cluster.get(kit.system());
  }

  /** This node's host:port, as the coordinator reports nodes. */
  String hostPort() {
    Address a = kit.system().address();
    return a.getHost().orElseThrow() + ":" + a.getPort().orElseThrow();
  }

  PersistenceTestKit journal() {
    return journal;
  }

  /** The events of job {@code jobId}'s journal, oldest first. */
  List<JobJournal.Event> events(String jobId) {
    return journal.persistedInStorage(JobJournal.persistenceId(jobId).id()).stream()
        .map(JobJournal.Event.class::cast)
        .toList();
  }

  /** The events of job {@code jobId}'s journal of type {@code type}, oldest first. */
  <T extends JobJournal.Event> List<T> events(String jobId, Class<T> type) {
    return events(jobId).stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** Waits until this node's receptionist lists exactly {@code workers} (of any node). */
  void awaitListed(Set<ActorRef<WorkerCommand>> workers) {
    TestProbe<Receptionist.Listing> listing = kit.createTestProbe(Receptionist.Listing.class);
    listing.awaitAssert(
        CLUSTER_WAIT,
        () -> {
          kit.system()
              .receptionist()
              .tell(Receptionist.find(TrainingProtocol.WORKERS, listing.ref()));
          assertEquals(
              identities(workers),
              identities(
                  listing
                      .receiveMessage(CLUSTER_WAIT)
                      .getServiceInstances(TrainingProtocol.WORKERS)));
          return null;
        });
  }

  /** Actors by path and uid: a ref seen from another node carries that node's address. */
  private static Set<String> identities(Set<ActorRef<WorkerCommand>> refs) {
    return refs.stream()
        .map(r -> r.path().toStringWithoutAddress() + "#" + r.path().uid())
        .collect(Collectors.toSet());
  }

  private List<Member> members() {
    return StreamSupport.stream(cluster().state().getMembers().spliterator(), false).toList();
  }

  private void awaitUpMembers(int n) {
    kit.createTestProbe()
        .awaitAssert(
            CLUSTER_WAIT,
            () -> {
              List<Member> members = members();
              assertEquals(n, members.size(), () -> "members: " + members);
              assertEquals(
                  Set.of(MemberStatus.up()),
                  members.stream().map(Member::status).collect(Collectors.toSet()),
                  () -> "members: " + members);
              return null;
            });
  }

  @Override
  public void close() {
    kit.shutdownTestKit();
  }
}
