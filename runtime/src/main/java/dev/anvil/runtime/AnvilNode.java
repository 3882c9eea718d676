package dev.anvil.runtime;

import com.typesafe.config.Config;
import dev.anvil.coordinator.JobCoordinator;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.JournalSchema;
import dev.anvil.worker.PreparedJobs;
import dev.anvil.worker.Worker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * One Anvil cluster node in this JVM: the actor system, the node's worker slots (registered with
 * the receptionist) and the coordinator entity type. Start it from a service with
 * {@link #start(Config)}; {@link #close()} leaves the cluster gracefully.
 */
public final class AnvilNode implements AutoCloseable {
  private final ActorSystem<Void> system;

  private AnvilNode(ActorSystem<Void> system) {
    this.system = system;
  }

  /**
   * Starts a node from {@code overrides} on top of system properties, application.conf and the
   * modules' reference.conf. Checks the journal database first (a clear error with its URL when
   * it does not answer) and creates the schema when asked.
   */
  public static AnvilNode start(Config overrides) {
    Config config = AnvilConfig.load(overrides);
    DatabaseSettings db = DatabaseSettings.from(config);
    db.check();
    if (db.createSchema()) {
      JournalSchema.createIfMissing(db);
    }
    int slots = config.getInt("anvil.worker.slots");
    String role = config.getString("anvil.node.role");
    ActorSystem<Void> system = ActorSystem.create(guardian(slots), "anvil", config);
    JobCoordinator.init(system, role);
    return new AnvilNode(system);
  }

  private static Behavior<Void> guardian(int slots) {
    return Behaviors.setup(ctx -> {
      PreparedJobs prepared = new PreparedJobs();
      String address = ctx.getSystem().address().hostPort();
      for (int i = 0; i < slots; i++) {
        ActorRef<WorkerCommand> worker = ctx.spawn(
            Worker.create(address + "/worker-" + i, prepared), "worker-" + i,
            DispatcherSelector.fromConfig("anvil.worker.compute-dispatcher"));
        ctx.getSystem().receptionist().tell(Receptionist.register(TrainingProtocol.WORKERS,
            worker));
      }
      return Behaviors.empty();
    });
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** This node's address, host:port. */
  public String address() {
    return system.address().hostPort();
  }

  /** Leaves the cluster and stops the actor system; waits up to {@code timeout}. */
  public void close(Duration timeout) {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(timeout.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      // terminated or not, there is nothing more to wait for
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }
}
