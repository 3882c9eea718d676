package dev.anvil.core.train;

/**
 * Where a run stands after a committed round: {@code round} of {@code totalRounds} (1-based), the
 * round's mean training loss, and throughput since the run started (training time only).
 */
public record RoundProgress(
    long round, long totalRounds, double epochs, double loss, double samplesPerSecond) {}
