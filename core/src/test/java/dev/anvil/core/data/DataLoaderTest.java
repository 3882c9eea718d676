package dev.anvil.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.anvil.core.spec.DataSpec;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
  @Test
  void syntheticDataIsAPureFunctionOfItsParameters() {
    DataSpec spec = new DataSpec.Synthetic(500, 6, 4, 9, 0.2);
    TrainTestData a = DataLoader.load(spec, 1);
    TrainTestData b = DataLoader.load(spec, 2);
    assertArrayEquals(a.train().x(), b.train().x());
    assertArrayEquals(a.test().labels(), b.test().labels());
    assertEquals(a.train().fingerprint(), b.train().fingerprint());
    assertEquals(400, a.train().rows());
    assertEquals(100, a.test().rows());
  }

  @Test
  void anotherSeedGivesOtherData() {
    String a = DataLoader.load(new DataSpec.Synthetic(500, 6, 4, 9, 0.2), 0).train().fingerprint();
    String b = DataLoader.load(new DataSpec.Synthetic(500, 6, 4, 10, 0.2), 0).train().fingerprint();
    assertNotEquals(a, b);
  }

  @Test
  void syntheticFingerprintIsPinned() {
    // Moves only if the generator changes, which changes every synthetic job's result.
    assertEquals(
        "a1263159d141466431786e2c97aa444755234c8b9f8e4b4c9f98ffd947ad79e7",
        DataLoader.load(new DataSpec.Synthetic(500, 6, 4, 9, 0.2), 0).train().fingerprint());
  }
}
