package dev.anvil.chaos.agent;

import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.remote.RemoteActorRefProvider;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;

/**
 * Cuts and restores this actor system's links to other nodes through Artery's test transport
 * ({@code pekko.remote.artery.advanced.test-mode = on}): a cut link drops every message both ways,
 * cluster heartbeats included, exactly as a network partition does.
 */
public final class Links {
  /** Scala's {@code Direction.Both} (its binary name: Java sees no nested class here). */
  private static final ThrottlerTransportAdapter.Direction BOTH =
      org.apache.pekko.remote.transport.ThrottlerTransportAdapter$Direction$Both$.MODULE$;

  private Links() {}

  /** Drops everything between this system and {@code hostPort}, both ways ({@code cut}), or not. */
  public static void set(ActorSystem<?> system, String hostPort, boolean cut) {
    ExtendedActorSystem classic = (ExtendedActorSystem) Adapter.toClassic(system);
    if (!classic.settings().config().getBoolean("pekko.remote.artery.advanced.test-mode")) {
      throw new IllegalStateException(
          "cannot cut links: pekko.remote.artery.advanced.test-mode"
              + " is off on "
              + classic.provider().getDefaultAddress());
    }
    String[] hp = hostPort.split(":");
    Address to = new Address("pekko", classic.name(), hp[0], Integer.parseInt(hp[1]));
    ThrottlerTransportAdapter.ThrottleMode mode =
        cut
            ? ThrottlerTransportAdapter.Blackhole$.MODULE$
            : ThrottlerTransportAdapter.Unthrottled$.MODULE$;
    ((RemoteActorRefProvider) classic.provider())
        .transport()
        .managementCommand(new ThrottlerTransportAdapter.SetThrottle(to, BOTH, mode));
  }
}
