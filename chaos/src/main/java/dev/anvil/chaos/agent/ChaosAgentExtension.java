package dev.anvil.chaos.agent;

import dev.anvil.core.fault.FaultHooks;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Starts the {@link ChaosAgent} of a node JVM and installs its fault hooks. A chaos run launches
 * its nodes with {@code -Dpekko.actor.typed.extensions.0=} this class, so production nodes never
 * carry it.
 */
public final class ChaosAgentExtension extends ExtensionId<ChaosAgentExtension.Started> {
  private static final ChaosAgentExtension INSTANCE = new ChaosAgentExtension();

  private ChaosAgentExtension() {}

  /** The id; Pekko loads a Java extension listed in its configuration through this method. */
  public static ChaosAgentExtension getInstance() {
    return INSTANCE;
  }

  /** The running agent. */
  public static final class Started implements Extension {
    Started() {}
  }

  @Override
  public Started createExtension(ActorSystem<?> system) {
    AgentHooks hooks = new AgentHooks();
    FaultHooks.install(hooks);
    var agent = system.systemActorOf(ChaosAgent.create(hooks), "chaos-agent", Props.empty());
    system.receptionist().tell(Receptionist.register(ChaosAgent.KEY, agent));
    return new Started();
  }
}
