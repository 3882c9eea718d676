package dev.anvil.persistence;

import java.util.Set;

/**
 * Deletes a job's old events from the journal: the job's record needs nothing before its oldest
 * kept checkpoint once it has summarized its state in a newer event.
 */
public interface EventDeleter {
  /** Does nothing: events are kept (tests, and {@code anvil.checkpoint.delete-old-events} off). */
  EventDeleter KEEP = (persistenceId, before, kept) -> {};

  /**
   * Deletes the events of {@code persistenceId} before {@code sequenceNumber} except those numbered
   * in {@code kept}. Fails with a {@link DatabaseException} naming the journal; the caller may try
   * again later (nothing is lost by not deleting).
   */
  void deleteBefore(String persistenceId, long sequenceNumber, Set<Long> kept);
}
