package dev.anvil.core.wire;

/**
 * A module's contribution to the wire format: the types it sends or stores, each with a stable id
 * from the module's own range. Listed in the module's {@code reference.conf} under {@code
 * anvil.wire.registrars}, so that {@code core} never needs to see other modules' types.
 *
 * <p>Ranges: core 100-199, worker 200-299, coordinator 300-399, persistence 400-499, runtime
 * 500-599, chaos 600-699. An id, once used, is never reused for another type.
 */
public interface WireRegistrar {
  /** First id of this module's range (inclusive). */
  int firstId();

  /** Last id of this module's range (inclusive). */
  int lastId();

  void register(WireRegistry registry);
}
