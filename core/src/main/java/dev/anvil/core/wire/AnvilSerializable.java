package dev.anvil.core.wire;

/**
 * Marker for every message, event and snapshot Anvil sends or stores: Pekko binds it to {@link
 * KryoSerializer}. A type that implements it must also be registered, with a stable id, by its
 * module's {@link WireRegistrar}; an unregistered type is refused on both ends.
 */
public interface AnvilSerializable {}
