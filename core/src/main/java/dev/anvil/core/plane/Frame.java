package dev.anvil.core.plane;

import dev.anvil.core.train.TreeNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The header of a data-plane frame, 64 bytes little-endian, followed by {@code count} floats. A
 * {@link Kind#PART} carries the receiver's slice of one tree node's sum from the sender's nodes
 * (reduce-scatter); a {@link Kind#SLICE} carries the sender's completed slice of the round's sum
 * (allgather). Every frame names the job epoch and round it belongs to: a receiver takes it only
 * for the round it is in and refuses any other before reading the payload.
 */
record Frame(
    Kind kind,
    long epoch,
    long round,
    int from,
    TreeNode node,
    int count,
    double lossSum,
    long samples) {
  static final int BYTES = 64;
  static final int MAGIC = 0x50564e41; // "ANVP" read little-endian
  static final byte VERSION = 1;

  /** What a frame's payload is. */
  enum Kind {
    PART,
    SLICE
  }

  /** Writes this header at the start of {@code out} (position 0, 64 bytes). */
  void encode(ByteBuffer out) {
    out.clear().order(ByteOrder.LITTLE_ENDIAN);
    out.putInt(MAGIC).put((byte) (kind.ordinal() + 1)).put(VERSION).putShort((short) 0);
    out.putLong(epoch).putLong(round).putInt(from);
    out.putInt(node == null ? -1 : node.level()).putInt(node == null ? -1 : node.index());
    out.putInt(count).putDouble(lossSum).putLong(samples).putLong(0L);
    out.flip();
  }

  /**
   * Reads a header from {@code in} (64 bytes from position 0). Only its shape is checked here; the
   * receiver checks the values against what it expects before it reads a payload.
   *
   * @throws PlaneException naming the problem, for a wrong magic, version or kind
   */
  static Frame decode(ByteBuffer in) {
    in.order(ByteOrder.LITTLE_ENDIAN);
    if (in.getInt(0) != MAGIC) {
      throw new PlaneException("not a data-plane frame (wrong magic number)");
    }
    int kind = in.get(4);
    if (in.get(5) != VERSION) {
      throw new PlaneException("data-plane frame version " + in.get(5) + ", expected " + VERSION);
    }
    if (kind != 1 && kind != 2) {
      throw new PlaneException("data-plane frame kind " + kind + " is neither 1 (part) nor 2");
    }
    int level = in.getInt(28);
    int index = in.getInt(32);
    return new Frame(
        Kind.values()[kind - 1],
        in.getLong(8),
        in.getLong(16),
        in.getInt(24),
        level < 0 && index < 0 ? null : new TreeNode(level, index),
        in.getInt(36),
        in.getDouble(40),
        in.getLong(48));
  }
}
