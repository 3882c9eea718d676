package dev.anvil.core.spec;

/** A class a hostile job names as its model: its static initialiser must never run. */
public final class NotAModel {
  static {
    UntrustedSpecTest.NOT_A_MODEL_INITIALISED.set(true);
  }

  public NotAModel() {}
}
