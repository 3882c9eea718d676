package dev.anvil.coordinator;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.StorageFailure;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;

/**
 * Gives the persistence testkit's journal the property of the production journal that fences a
 * zombie coordinator: PostgreSQL's (persistence id, sequence number) key. A zombie journal has seen
 * every event up to its own last one, so its next write takes the sequence number at which the
 * newer incarnation wrote its {@code CoordinatorStarted}, and the key refuses it. The testkit keeps
 * no such key (it appends any write), and its policies see events, not sequence numbers, so the
 * fence is stated by epoch: a write holding an event of an incarnation older than the newest one
 * started in that journal fails as the database's write does.
 */
final class ZombieFence implements ProcessingPolicy<JournalOperation> {
  private final PersistenceTestKit journal;
  private final AtomicInteger refused = new AtomicInteger();

  ZombieFence(PersistenceTestKit journal) {
    this.journal = journal;
  }

  /** Writes refused so far. */
  int refused() {
    return refused.get();
  }

  @Override
  public ProcessingResult tryProcess(String persistenceId, JournalOperation operation) {
    if (!(operation instanceof WriteEvents write)) {
      return ProcessingSuccess.getInstance();
    }
    long newest = newestEpoch(journal.persistedInStorage(persistenceId));
    for (Object event : write.getBatch()) {
      if (event instanceof JobJournal.Event e && e.epoch() > 0 && e.epoch() < newest) {
        refused.incrementAndGet();
        return StorageFailure.create(
            new IllegalStateException(
                "duplicate key value violates"
                    + " unique constraint (persistence_id, sequence_number) of "
                    + persistenceId
                    + ": epoch "
                    + e.epoch()
                    + " writes after epoch "
                    + newest
                    + " started"));
      }
    }
    return ProcessingSuccess.getInstance();
  }

  private static long newestEpoch(List<Object> events) {
    return events.stream()
        .filter(JobJournal.CoordinatorStarted.class::isInstance)
        .mapToLong(e -> ((JobJournal.CoordinatorStarted) e).epoch())
        .max()
        .orElse(0);
  }
}
