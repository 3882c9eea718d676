package dev.anvil.core.spec;

/** Hidden-layer activation of an MLP. */
public enum Activation {
  RELU,
  TANH
}
