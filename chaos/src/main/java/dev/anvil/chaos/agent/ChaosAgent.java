package dev.anvil.chaos.agent;

import dev.anvil.core.wire.AnvilSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The chaos module's hand inside a node JVM: applies the in-process faults the runner asks for
 * (through the {@link dev.anvil.core.fault.FaultHooks} it installed) and cuts or restores this
 * node's links to others. Started by {@link ChaosAgentExtension} when a node is launched for a
 * chaos run; found by the runner through the receptionist.
 */
public final class ChaosAgent extends AbstractBehavior<ChaosAgent.Command> {
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "anvil-chaos");

  public sealed interface Command extends AnvilSerializable permits Apply, Isolate {}

  /** Replaces this node's in-process faults ({@link NodeFaults#NONE} heals them). */
  public record Apply(NodeFaults faults, ActorRef<Applied> replyTo) implements Command {}

  /** Cuts ({@code cut}) or restores this node's links to the nodes at {@code hostPorts}. */
  public record Isolate(String[] hostPorts, boolean cut, ActorRef<Applied> replyTo)
      implements Command {}

  /** Done, on the node at {@code node} (host:port); {@code error} when it could not be. */
  public record Applied(String node, String error) implements AnvilSerializable {}

  private final AgentHooks hooks;
  private final String node;

  static Behavior<Command> create(AgentHooks hooks) {
    return Behaviors.setup(ctx -> new ChaosAgent(ctx, hooks));
  }

  private ChaosAgent(ActorContext<Command> context, AgentHooks hooks) {
    super(context);
    this.hooks = hooks;
    this.node = context.getSystem().address().hostPort().replaceFirst("^anvil@", "");
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Apply.class, this::onApply)
        .onMessage(Isolate.class, this::onIsolate)
        .build();
  }

  private Behavior<Command> onApply(Apply a) {
    hooks.set(a.faults());
    getContext().getLog().info("chaos: in-process faults now {}", a.faults());
    a.replyTo().tell(new Applied(node, null));
    return this;
  }

  private Behavior<Command> onIsolate(Isolate i) {
    try {
      for (String other : i.hostPorts()) {
        Links.set(getContext().getSystem(), other, i.cut());
      }
      getContext()
          .getLog()
          .info(
              "chaos: links to {} {}",
              String.join(", ", i.hostPorts()),
              i.cut() ? "cut" : "restored");
      i.replyTo().tell(new Applied(node, null));
    } catch (RuntimeException e) {
      i.replyTo().tell(new Applied(node, e.getMessage()));
    }
    return this;
  }
}
