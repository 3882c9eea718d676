package dev.anvil.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxReaderTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void loadsPlainAndGzippedFilesScalingPixelsToUnitRange(boolean gzip) throws Exception {
    IdxFiles.folder(dir, gzip);
    TrainTestData data = IdxReader.load(dir);
    assertEquals(20, data.train().rows());
    assertEquals(6, data.test().rows());
    assertEquals(6, data.train().features());
    assertEquals(4, data.train().classes());
    assertEquals(1 / 255f, data.train().x()[0]);
    assertEquals(32 / 255f, data.train().x()[1]);
    assertEquals(3, data.train().labels()[7]);
    assertTrue(Arrays.stream(toDouble(data.train().x())).allMatch(v -> v >= 0 && v <= 1));
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  @Test
  void badMagicNumberIsAClearError() throws Exception {
    IdxFiles.folder(dir, false);
    byte[] bytes = IdxFiles.images(20, 2, 3, 1);
    bytes[3] = 0x01;
    Files.write(dir.resolve("train-images-idx3-ubyte"), bytes);
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage()
            .contains(
                "train-images-idx3-ubyte does not start with the IDX" + " magic number 0x00000803"),
        e.getMessage());
    assertFalse(e.getMessage().contains("0x00000801"), "quotes the file: " + e.getMessage());
  }

  @Test
  void truncatedImageFileSaysHowManyBytesAreMissing() throws Exception {
    IdxFiles.folder(dir, false);
    byte[] bytes = IdxFiles.images(20, 2, 3, 1);
    Files.write(dir.resolve("train-images-idx3-ubyte"), Arrays.copyOf(bytes, bytes.length - 5));
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage()
            .contains(
                "is truncated: its header announces 20 images of 2x3"
                    + " pixels (120 bytes of data) but only 115 bytes follow"),
        e.getMessage());
  }

  @Test
  void fileShorterThanItsHeaderIsTruncated() throws Exception {
    IdxFiles.folder(dir, false);
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), new byte[] {0, 0, 8});
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage()
            .contains(
                "t10k-labels-idx1-ubyte is truncated: 3 bytes, shorter"
                    + " than the 8-byte IDX header"),
        e.getMessage());
  }

  @Test
  void trailingBytesAreASizeMismatch() throws Exception {
    IdxFiles.folder(dir, false);
    byte[] bytes = IdxFiles.labels(20, 4);
    Files.write(dir.resolve("train-labels-idx1-ubyte"), Arrays.copyOf(bytes, bytes.length + 2));
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage()
            .contains("has 2 bytes after the 20 labels its header announces:" + " size mismatch"),
        e.getMessage());
  }

  @Test
  void imageAndLabelCountsMustAgree() throws Exception {
    IdxFiles.folder(dir, false);
    Files.write(dir.resolve("train-labels-idx1-ubyte"), IdxFiles.labels(19, 4));
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage().contains("holds 20 images but")
            && e.getMessage().contains("holds 19 labels: the counts must be equal"),
        e.getMessage());
  }

  @Test
  void missingFileNamesTheExpectedFiles() throws Exception {
    IdxFiles.folder(dir, false);
    Files.delete(dir.resolve("t10k-images-idx3-ubyte"));
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage().contains("has no t10k-images-idx3-ubyte or" + " t10k-images-idx3-ubyte.gz"),
        e.getMessage());
  }

  @Test
  void corruptGzipIsAClearError() throws Exception {
    IdxFiles.folder(dir, true);
    Path gz = dir.resolve("train-images-idx3-ubyte.gz");
    byte[] bytes = Files.readAllBytes(gz);
    Files.write(gz, Arrays.copyOf(bytes, bytes.length / 2));
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(
        e.getMessage()
            .contains("train-images-idx3-ubyte.gz is truncated: the gzip" + " stream ends early"),
        e.getMessage());
  }

  @Test
  void hugeDimensionsInAHeaderAllocateNothing() throws Exception {
    IdxFiles.folder(dir, false);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
    b.putInt(IdxReader.IMAGES_MAGIC).putInt(Integer.MAX_VALUE).putInt(60000).putInt(60000);
    Files.write(dir.resolve("train-images-idx3-ubyte"), b.array());
    DataException e = assertThrows(DataException.class, () -> IdxReader.load(dir));
    assertTrue(e.getMessage().contains("is truncated"), e.getMessage());
  }
}
