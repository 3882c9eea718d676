package dev.anvil.core.data;

/**
 * What a model must match: {@code features} inputs, and {@code classes} outputs for a classifier
 * ({@code classification}) or {@code outputs} real targets for a regression set.
 */
public record DataShape(int features, int classes, int outputs, boolean classification) {}
