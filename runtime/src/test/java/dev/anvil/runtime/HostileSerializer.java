package dev.anvil.runtime;

import dev.anvil.core.wire.KryoSerializer;
import org.apache.pekko.serialization.JSerializer;

/**
 * Stands in for Anvil's serializer on an attacking node: same id, but every message becomes the
 * bytes of a float array that announces two billion elements and carries four bytes.
 */
public final class HostileSerializer extends JSerializer {
  public HostileSerializer(org.apache.pekko.actor.ExtendedActorSystem system) {}

  @Override
  public int identifier() {
    return KryoSerializer.IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    // Kryo class id of float[] (registration 100, written as 102), then a varint of 2^31 - 1.
    return new byte[] {0x66, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 1, 2, 3, 4};
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    throw new UnsupportedOperationException("an attacker does not listen");
  }
}
