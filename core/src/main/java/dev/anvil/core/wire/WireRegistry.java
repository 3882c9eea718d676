package dev.anvil.core.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;

/**
 * Registers types on one {@link Kryo} instance for one {@link WireRegistrar}, refusing ids outside
 * the registrar's range and ids already taken by another type.
 */
public final class WireRegistry {
  private final Kryo kryo;
  private final WireRegistrar owner;

  WireRegistry(Kryo kryo, WireRegistrar owner) {
    this.kryo = kryo;
    this.owner = owner;
  }

  public void register(Class<?> type, int id) {
    check(type, id);
    kryo.register(type, id);
  }

  public void register(Class<?> type, int id, Serializer<?> serializer) {
    check(type, id);
    kryo.register(type, serializer, id);
  }

  /** Registers a type by class name, for implementation classes that are not public API. */
  public void register(String className, int id, Serializer<?> serializer) {
    try {
      register(Class.forName(className), id, serializer);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(
          "wire registrar " + owner.getClass().getName() + " names missing class " + className, e);
    }
  }

  private void check(Class<?> type, int id) {
    if (id < owner.firstId() || id > owner.lastId()) {
      throw new IllegalStateException(
          "wire id "
              + id
              + " for "
              + type.getName()
              + " is outside "
              + owner.getClass().getName()
              + "'s range "
              + owner.firstId()
              + "-"
              + owner.lastId());
    }
    Registration taken = kryo.getRegistration(id);
    if (taken != null && taken.getType() != type) {
      throw new IllegalStateException(
          "wire id "
              + id
              + " is taken by "
              + taken.getType().getName()
              + ", cannot register "
              + type.getName());
    }
  }
}
