package dev.anvil.core.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/** Typed actor refs travel as Pekko's serialization format, resolved on arrival. */
final class ActorRefSerializer extends Serializer<ActorRef<?>> {
  private final ActorRefResolver resolver;

  ActorRefSerializer(ActorRefResolver resolver) {
    super(false, true);
    this.resolver = resolver;
  }

  @Override
  public void write(Kryo kryo, Output output, ActorRef<?> ref) {
    CheckedSerializers.STRING.write(kryo, output, resolver.toSerializationFormat(ref));
  }

  @Override
  public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
    return resolver.resolveActorRef(CheckedSerializers.STRING.read(kryo, input, String.class));
  }
}
