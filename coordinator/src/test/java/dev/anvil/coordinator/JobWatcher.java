package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.coordinator.JobProtocol.Failed;
import dev.anvil.coordinator.JobProtocol.Finished;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.coordinator.JobProtocol.Recovered;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.core.train.Recovery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A client of one job in a test: sends the coordinator commands with itself as the watcher and
 * keeps every update it hears, in order. Waiting for an update of one kind fails at once, with the
 * reason, when the job fails or is rejected instead.
 */
final class JobWatcher {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TestProbe<JobUpdate> probe;
  private final ActorRef<JobCoordinator.Command> coordinator;
  private final List<JobUpdate> heard = new ArrayList<>();

  JobWatcher(ActorTestKit kit, ActorRef<JobCoordinator.Command> coordinator) {
    this.probe = kit.createTestProbe(JobUpdate.class);
    this.coordinator = coordinator;
  }

  /** Sends the coordinator {@code command}, made with this watcher as the reply address. */
  void send(Function<ActorRef<JobUpdate>, JobCoordinator.Command> command) {
    coordinator.tell(command.apply(probe.ref()));
  }

  /** The next update of type {@code type} (updates of other kinds are kept and skipped). */
  <T extends JobUpdate> T expect(Class<T> type, Duration max) {
    List<JobUpdate> seen =
        probe.fishForMessage(
            max,
            "an update " + type.getSimpleName(),
            u -> {
              heard.add(u);
              if (type.isInstance(u)) {
                return FishingOutcomes.complete();
              }
              if (u instanceof Failed || u instanceof Rejected) {
                return FishingOutcomes.fail("expected " + type.getSimpleName() + " but heard " + u);
              }
              return FishingOutcomes.continueAndIgnore();
            });
    return type.cast(seen.get(seen.size() - 1));
  }

  /** The next progress report of round {@code round} or a later one. */
  Progress awaitProgress(long round, Duration max) {
    Progress p;
    do {
      p = expect(Progress.class, max);
    } while (p.round() < round);
    return p;
  }

  /** The result.json of the job, once it has finished. */
  JsonNode result(Duration max) {
    try {
      return JSON.readTree(expect(Finished.class, max).resultJson());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The updates of type {@code type} heard so far, in order. */
  <T extends JobUpdate> List<T> heard(Class<T> type) {
    return heard.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The recoveries heard so far, in order. */
  List<Recovery> recoveries() {
    return heard(Recovered.class).stream().map(Recovered::recovery).toList();
  }

  /** The recoveries of kind {@code kind} heard so far. */
  List<Recovery> recoveries(String kind) {
    return recoveries().stream().filter(r -> r.kind().equals(kind)).toList();
  }

  /** Nothing more is heard within {@code max}. */
  void expectSilence(Duration max) {
    probe.expectNoMessage(max);
  }

  /** Asserts that exactly one recovery of kind {@code kind} was heard and returns it. */
  Recovery onlyRecovery(String kind) {
    List<Recovery> of = recoveries(kind);
    assertEquals(1, of.size(), () -> "recoveries heard: " + recoveries());
    return of.get(0);
  }
}
