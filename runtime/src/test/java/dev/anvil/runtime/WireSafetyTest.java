package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.train.TreeNode;
import dev.anvil.core.wire.AnvilSerializable;
import dev.anvil.core.wire.KryoSerializer;
import dev.anvil.runtime.node.AnvilConfig;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Over a real Artery connection on loopback: a message whose bytes announce a two-billion-element
 * array, and a message of an unregistered type, are refused (counted and logged) and the receiving
 * node goes on answering.
 */
class WireSafetyTest {
  private ActorSystem<Void> receiver;
  private ActorSystem<Void> attacker;

  /** What the receiving node runs: answers pings, takes any Anvil message. */
  record Ping(String text, ActorRef<String> replyTo) implements AnvilSerializable {}

  record NotRegistered(int x) implements AnvilSerializable {}

  static final ServiceKey<Object> TARGET = ServiceKey.create(Object.class, "wire-target");

  static Config config(Map<String, Object> extra) {
    return AnvilConfig.load(
        ConfigFactory.parseMap(extra)
            .withFallback(ConfigFactory.parseMap(Map.of("pekko.remote.artery.canonical.port", 0))));
  }

  @AfterEach
  void stop() {
    for (ActorSystem<Void> s : new ActorSystem[] {attacker, receiver}) {
      if (s != null) {
        s.terminate();
        s.getWhenTerminated().toCompletableFuture().join();
      }
    }
  }

  private static Behavior<Object> target(TestProbe<Object> seen) {
    return Behaviors.receive(
        (ctx, msg) -> {
          seen.ref().tell(msg);
          return Behaviors.same();
        });
  }

  @Test
  void hostileLengthAndUnregisteredTypeAreRefusedAndTheNodeStaysUp() {
    receiver = ActorSystem.create(Behaviors.empty(), "anvil", config(Map.of()));
    // The attacker's "anvil-kryo" serializer writes hostile bytes under the real serializer id.
    attacker =
        ActorSystem.create(
            Behaviors.empty(),
            "anvil",
            config(
                Map.of("pekko.actor.serializers.anvil-kryo", HostileSerializer.class.getName())));
    Cluster.get(receiver).manager().tell(Join.create(Cluster.get(receiver).selfMember().address()));
    Cluster.get(attacker).manager().tell(Join.create(Cluster.get(receiver).selfMember().address()));

    TestProbe<Object> seen = TestProbe.create(receiver);
    ActorRef<Object> target =
        receiver.systemActorOf(target(seen), "target", org.apache.pekko.actor.typed.Props.empty());
    receiver.receptionist().tell(Receptionist.register(TARGET, target));
    TestProbe<Receptionist.Listing> listings = TestProbe.create(attacker);
    ActorRef<Object> remoteTarget = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (remoteTarget == null && System.nanoTime() < deadline) {
      attacker.receptionist().tell(Receptionist.find(TARGET, listings.ref()));
      var found = listings.receiveMessage(Duration.ofSeconds(5)).getServiceInstances(TARGET);
      remoteTarget = found.isEmpty() ? null : found.iterator().next();
    }
    assertTrue(remoteTarget != null, "the attacker found the target across the wire");

    long refusedBefore = KryoSerializer.refusedInbound();
    TestProbe<Object> unused = TestProbe.create(attacker);
    remoteTarget.tell(
        new ComputeNodes(
            "job",
            1,
            1,
            new float[] {1f, 2f, 3f},
            new TreeNode[] {TreeNode.leaf(0)},
            unused.ref().unsafeUpcast()));
    long waitUntil = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (KryoSerializer.refusedInbound() == refusedBefore && System.nanoTime() < waitUntil) {
      Thread.onSpinWait();
    }
    assertEquals(
        refusedBefore + 1,
        KryoSerializer.refusedInbound(),
        "the hostile message was refused on arrival");

    long refusedSends = KryoSerializer.refusedOutbound();
    ActorRef<Object> fromReceiver = remoteTarget;
    // The receiver itself tries to send an unregistered type to the attacker's node: refused
    // before it leaves.
    ActorRef<Object> attackerProbe =
        ActorRefResolver.get(receiver)
            .resolveActorRef(ActorRefResolver.get(attacker).toSerializationFormat(unused.ref()));
    attackerProbe.tell(new NotRegistered(7));
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (KryoSerializer.refusedOutbound() == refusedSends && System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    assertEquals(refusedSends + 1, KryoSerializer.refusedOutbound());

    // The node is still up and still receives ordinary messages over the same connection.
    fromReceiver.tell("still there?");
    assertEquals("still there?", seen.receiveMessage(Duration.ofSeconds(10)));
    assertTrue(!receiver.whenTerminated().isCompleted());
  }
}
