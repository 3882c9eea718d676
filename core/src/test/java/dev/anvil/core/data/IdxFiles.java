package dev.anvil.core.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests. */
final class IdxFiles {
  private IdxFiles() {}

  static byte[] images(int n, int rows, int cols, int seed) {
    ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
    b.putInt(IdxReader.IMAGES_MAGIC).putInt(n).putInt(rows).putInt(cols);
    for (int i = 0; i < n * rows * cols; i++) {
      b.put((byte) ((i * 31 + seed) % 256));
    }
    return b.array();
  }

  static byte[] labels(int n, int classes) {
    ByteBuffer b = ByteBuffer.allocate(8 + n);
    b.putInt(IdxReader.LABELS_MAGIC).putInt(n);
    for (int i = 0; i < n; i++) {
      b.put((byte) (i % classes));
    }
    return b.array();
  }

  static void write(Path file, byte[] bytes, boolean gzip) throws IOException {
    if (!gzip) {
      Files.write(file, bytes);
      return;
    }
    try (OutputStream out =
        new GZIPOutputStream(
            Files.newOutputStream(file.resolveSibling(file.getFileName() + ".gz")))) {
      out.write(bytes);
    }
  }

  /** A complete folder: 20 training and 6 test images of 2x3 pixels, 4 classes. */
  static void folder(Path dir, boolean gzip) throws IOException {
    write(dir.resolve("train-images-idx3-ubyte"), images(20, 2, 3, 1), gzip);
    write(dir.resolve("train-labels-idx1-ubyte"), labels(20, 4), gzip);
    write(dir.resolve("t10k-images-idx3-ubyte"), images(6, 2, 3, 2), gzip);
    write(dir.resolve("t10k-labels-idx1-ubyte"), labels(6, 4), gzip);
  }
}
