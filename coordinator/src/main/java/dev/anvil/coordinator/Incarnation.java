package dev.anvil.coordinator;

/**
 * One coordinator incarnation of a job: its epoch (recorded by the journal before it writes
 * anything), the rounds earlier incarnations committed (recomputed, or replayed from the gradient
 * log, never recorded again) and how they were restored. Its replay is verified: the recomputed
 * loss of the newest committed round must be the journal's, bit for bit.
 */
final class Incarnation {
  private final JournalState recorded;

  /** A resumed (or imported) job: its take-over is not a recovery. */
  private final boolean resuming;

  /** Started on a journal of an unfinished job that was not paused: a coordinator restart. */
  private final boolean tookOver;

  private final long startMillis;

  /** When the job's first coordinator started (the journal's), or this one for a new job. */
  private final long jobStartMillis;

  private long epoch;
  private long restoredFrom;
  private long replayedFromLog;
  private long resumedMillis;
  private boolean replayFinished;

  Incarnation(JournalState recorded, boolean takeOver, boolean resuming, long nowMillis) {
    this.recorded = recorded;
    this.resuming = resuming;
    this.tookOver = takeOver && !resuming;
    this.startMillis = takeOver ? nowMillis : 0;
    this.jobStartMillis = recorded.startedMillis() > 0 ? recorded.startedMillis() : nowMillis;
  }

  JournalState recorded() {
    return recorded;
  }

  boolean resuming() {
    return resuming;
  }

  /**
   * This incarnation's coordinator epoch (the fencing token every journal event and worker message
   * carries): 0 until the journal has recorded it. Not a training epoch (a pass over the data), nor
   * the Unix epoch of the {@code ...Millis} times.
   */
  long coordinatorEpoch() {
    return epoch;
  }

  /** The journal recorded this incarnation's start: whether the epoch was unknown until now. */
  boolean started(long epoch) {
    if (this.epoch != 0) {
      return false;
    }
    this.epoch = epoch;
    return true;
  }

  /** Rounds committed by earlier incarnations, restored (not recorded again) by this one. */
  long replayUntil() {
    return recorded.lastRound();
  }

  long jobStartMillis() {
    return jobStartMillis;
  }

  long restoredFrom() {
    return restoredFrom;
  }

  long replayedFromLog() {
    return replayedFromLog;
  }

  /** When this incarnation dispatched its first round, or began replaying the log. */
  long resumedMillis() {
    return resumedMillis;
  }

  void restoredCheckpoint(long round) {
    restoredFrom = round;
  }

  void replayingLog(long nowMillis) {
    resumedMillis = nowMillis;
  }

  void replayedLog(long rounds) {
    replayedFromLog = rounds;
  }

  void dispatching(long nowMillis) {
    resumedMillis = nowMillis;
  }

  /**
   * The failure when the recomputed loss of the newest committed round is not the journal's bit for
   * bit (the determinism contract); null when it is.
   */
  String replayVerdict(double loss) {
    if (Double.doubleToLongBits(loss) == Double.doubleToLongBits(recorded.lastLoss())) {
      return null;
    }
    return "recomputed round "
        + replayUntil()
        + " has loss "
        + loss
        + " but the journal"
        + " records "
        + recorded.lastLoss()
        + ": the recomputation is not bitwise identical (is"
        + " every node running the same Anvil version and kernel?)";
  }

  /** The replay ended: whether it had not already (it ends once). */
  boolean finishReplay() {
    if (replayFinished) {
      return false;
    }
    replayFinished = true;
    return true;
  }

  /** Rounds recomputed, neither restored from a checkpoint nor replayed from the log. */
  long redone() {
    return replayUntil() - restoredFrom - replayedFromLog;
  }

  /** Whether this incarnation's take-over is a recovery (a restart, not a resume). */
  boolean recovering() {
    return !resuming;
  }

  /** Records a coordinator-restart recovery in {@code recoveries}, complete with the next round. */
  void restartRecovery(Recoveries recoveries, String hostPort, long nowMillis) {
    String detail =
        "epoch "
            + epoch
            + " on "
            + hostPort
            + " took over from epoch "
            + (epoch - 1)
            + (restoredFrom > 0 ? " at the checkpoint of round " + restoredFrom : "")
            + (replayedFromLog > 0 ? ", replaying " + replayedFromLog + " logged gradients" : "")
            + ", recomputing "
            + redone()
            + " committed rounds";
    recoveries.coordinatorRestart(
        detail,
        recorded.lastRoundMillis(),
        startMillis,
        resumedMillis,
        redone(),
        nowMillis - resumedMillis,
        replayUntil() + 1);
  }

  /**
   * Whether a prepared worker's node is back after a loss this incarnation could not see: it took
   * the job over, and the node's process started ({@code nodeStartedMillis}) after the previous
   * incarnation's last commit, on a host:port first seen now ({@code firstFrom}, asked only then:
   * asking marks it seen).
   */
  boolean backAfterTakeOver(long nodeStartedMillis, java.util.function.BooleanSupplier firstFrom) {
    return tookOver
        && recorded.lastRoundMillis() > 0
        && nodeStartedMillis > recorded.lastRoundMillis()
        && firstFrom.getAsBoolean();
  }
}
