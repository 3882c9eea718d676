package dev.anvil.runtime.node;

import dev.anvil.core.protocol.TrainingProtocol;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/** The worker slots the cluster's receptionist lists, as the submitting side sees them. */
public final class WorkerListing {
  private WorkerListing() {}

  /**
   * Worker slots by node address (host:port), asked of {@code system}'s receptionist within {@code
   * timeout}. An unanswered or interrupted ask is an {@link IllegalStateException}.
   */
  public static Map<String, Integer> byNode(ActorSystem<?> system, Duration timeout) {
    Receptionist.Listing listing;
    try {
      listing =
          AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                  system.receptionist(),
                  r -> Receptionist.find(TrainingProtocol.WORKERS, r),
                  timeout,
                  system.scheduler())
              .toCompletableFuture()
              .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing the workers", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "the receptionist did not list the workers within " + timeout.toSeconds() + " s: " + e,
          e);
    }
    Map<String, Integer> out = new TreeMap<>();
    for (var w : listing.getServiceInstances(TrainingProtocol.WORKERS)) {
      var a = w.path().address();
      out.merge(a.hasLocalScope() ? system.address().hostPort() : a.hostPort(), 1, Integer::sum);
    }
    return out;
  }
}
