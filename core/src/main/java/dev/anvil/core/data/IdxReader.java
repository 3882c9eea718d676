package dev.anvil.core.data;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST-style IDX files ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte} and
 * the {@code t10k-*} pair, each optionally gzipped). Pixels are scaled to [0, 1]. A bad magic
 * number, a truncated file, trailing bytes or images and labels of different counts are reported as
 * a {@link DataException} naming the file and what was expected; nothing is allocated from a size
 * in a header before the bytes behind it are known to be there.
 */
public final class IdxReader {
  static final int IMAGES_MAGIC = 0x00000803;
  static final int LABELS_MAGIC = 0x00000801;
  private static final long MAX_FILE_BYTES = 1L << 31;

  private IdxReader() {}

  /** Loads the training and test sets from an IDX folder. */
  public static TrainTestData load(Path folder) {
    Dataset train = loadPair(folder, "train");
    Dataset test = loadPair(folder, "t10k");
    int classes = Math.max(train.classes(), test.classes());
    return new TrainTestData(
        new Dataset(train.rows(), train.features(), train.x(), classes, train.labels(), 0, null),
        new Dataset(test.rows(), test.features(), test.x(), classes, test.labels(), 0, null),
        "idx " + folder);
  }

  /** Whether the folder holds the four IDX files (plain or gzipped); throws when not. */
  static void probe(Path folder) {
    for (String prefix : new String[] {"train", "t10k"}) {
      find(folder, prefix + "-images-idx3-ubyte");
      find(folder, prefix + "-labels-idx1-ubyte");
    }
  }

  static Dataset loadPair(Path folder, String prefix) {
    Path imagesFile = find(folder, prefix + "-images-idx3-ubyte");
    Path labelsFile = find(folder, prefix + "-labels-idx1-ubyte");
    ByteBuffer images = ByteBuffer.wrap(readAll(imagesFile));
    ByteBuffer labels = ByteBuffer.wrap(readAll(labelsFile));

    int[] imageDims = header(imagesFile, images, IMAGES_MAGIC, 3);
    int[] labelDims = header(labelsFile, labels, LABELS_MAGIC, 1);
    long pixels = (long) imageDims[1] * imageDims[2];
    expectBytes(
        imagesFile,
        images,
        (long) imageDims[0] * pixels,
        imageDims[0] + " images of " + imageDims[1] + "x" + imageDims[2] + " pixels");
    expectBytes(labelsFile, labels, labelDims[0], labelDims[0] + " labels");
    if (imageDims[0] != labelDims[0]) {
      throw new DataException(
          imagesFile
              + " holds "
              + imageDims[0]
              + " images but "
              + labelsFile
              + " holds "
              + labelDims[0]
              + " labels: the counts must be equal");
    }
    int n = imageDims[0];
    int features = (int) pixels;
    float[] x = new float[n * features];
    byte[] raw = images.array();
    int offset = images.position();
    for (int i = 0; i < x.length; i++) {
      x[i] = (raw[offset + i] & 0xFF) / 255.0f;
    }
    int[] y = new int[n];
    int maxLabel = 0;
    for (int i = 0; i < n; i++) {
      y[i] = labels.get() & 0xFF;
      maxLabel = Math.max(maxLabel, y[i]);
    }
    return new Dataset(n, features, x, maxLabel + 1, y, 0, null);
  }

  private static Path find(Path folder, String name) {
    Path plain = folder.resolve(name);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    Path gz = folder.resolve(name + ".gz");
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    throw new DataException(
        "IDX folder "
            + folder
            + " has no "
            + name
            + " or "
            + name
            + ".gz"
            + " (expected train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,"
            + " t10k-labels-idx1-ubyte, optionally gzipped)");
  }

  private static byte[] readAll(Path file) {
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new DataException(file + " is larger than 2 GiB, too large for an IDX data set");
      }
      if (!file.getFileName().toString().endsWith(".gz")) {
        return Files.readAllBytes(file);
      }
      try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        byte[] buf = new byte[1 << 16];
        int read;
        while ((read = in.read(buf)) >= 0) {
          out.write(buf, 0, read);
          if (out.size() > MAX_FILE_BYTES) {
            throw new DataException(file + " unpacks to more than 2 GiB, too large for IDX");
          }
        }
        return out.toByteArray();
      }
    } catch (EOFException e) {
      throw new DataException(file + " is truncated: the gzip stream ends early", e);
    } catch (ZipException e) {
      throw new DataException(file + " is not a valid gzip file: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new DataException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static int[] header(Path file, ByteBuffer bytes, int magic, int dims) {
    int headerBytes = 4 + 4 * dims;
    if (bytes.remaining() < headerBytes) {
      throw new DataException(
          file
              + " is truncated: "
              + bytes.remaining()
              + " bytes, shorter than the "
              + headerBytes
              + "-byte IDX header");
    }
    int found = bytes.getInt();
    if (found != magic) {
      throw new DataException(
          String.format(
              "%s does not start with the IDX magic number 0x%08X (%s); is it the right file?",
              file,
              magic,
              magic == IMAGES_MAGIC
                  ? "unsigned bytes, 3 dimensions"
                  : "unsigned bytes, 1 dimension"));
    }
    int[] out = new int[dims];
    for (int i = 0; i < dims; i++) {
      out[i] = bytes.getInt();
      if (out[i] <= 0) {
        throw new DataException(
            file + " header gives dimension " + i + " a size <= 0, expected a size > 0");
      }
    }
    return out;
  }

  private static void expectBytes(Path file, ByteBuffer bytes, long expected, String what) {
    long found = bytes.remaining();
    if (found < expected) {
      throw new DataException(
          file
              + " is truncated: its header announces "
              + what
              + " ("
              + expected
              + " bytes of data) but only "
              + found
              + " bytes follow");
    }
    if (found > expected) {
      throw new DataException(
          file
              + " has "
              + (found - expected)
              + " bytes after the "
              + what
              + " its header announces: size mismatch");
    }
    if (expected > Integer.MAX_VALUE / 4) {
      throw new DataException(file + " holds " + what + ", more than Anvil can hold in memory");
    }
  }
}
