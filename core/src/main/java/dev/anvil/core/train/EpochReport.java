package dev.anvil.core.train;

/**
 * Metrics at the end of an epoch (or of the run, when it stops inside one): the mean training loss
 * of the epoch's rounds, and the test loss and, for a classifier, the test accuracy of the
 * parameters after {@code round}.
 */
public record EpochReport(
    double epoch, long round, double trainLoss, double testLoss, Double testAccuracy) {}
