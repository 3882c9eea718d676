package dev.anvil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.anvil.bench.LocalThroughputOptions.Model;
import dev.anvil.bench.PyTorchPeer.Config;
import dev.anvil.core.spec.KernelChoice;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The local benchmark's command line: each model's defaults, and errors that name the option. */
class LocalThroughputOptionsTest {
  @Test
  void noArgumentsGiveTheSmallModelWithBothKernelsAndOneCorePyTorch() {
    assertEquals(
        new LocalThroughputOptions(
            Model.SMALL,
            3,
            3,
            3,
            List.of(KernelChoice.NATIVE, KernelChoice.JAVA),
            List.of(Config.ONE_CORE)),
        LocalThroughputOptions.parse(new String[0]));
  }

  @Test
  void theLargeModelDefaultsToNativeOnlyAndBothPyTorchConfigurations() {
    assertEquals(
        new LocalThroughputOptions(
            Model.LARGE,
            2,
            1,
            1,
            List.of(KernelChoice.NATIVE),
            List.of(Config.ONE_CORE, Config.BLAS_FREE)),
        LocalThroughputOptions.parse(
            new String[] {
              "--model", "large", "--epochs", "2", "--repeats", "1", "--warmup-epochs", "1"
            }));
  }

  @Test
  void kernelsAndPyTorchConfigurationsGivenOverrideTheModelsInTheirOrder() {
    LocalThroughputOptions o =
        LocalThroughputOptions.parse(
            new String[] {"--kernels", "java,native", "--torch", "blasfree", "--model", "large"});
    assertEquals(List.of(KernelChoice.JAVA, KernelChoice.NATIVE), o.kernels());
    assertEquals(List.of(Config.BLAS_FREE), o.torch());
  }

  @Test
  void badArgumentsNameTheOptionTheValueAndWhatIsAllowed() {
    assertEquals("--model = huge: must be small or large", error("--model", "huge"));
    assertEquals(
        "--kernels = native,native: must be a comma-separated list of distinct names among"
            + " native, java",
        error("--kernels", "native,native"));
    assertEquals(
        "--torch = 2core: must be a comma-separated list of distinct names among 1core, blasfree",
        error("--torch", "2core"));
    assertEquals("--epochs needs an integer >= 2", error("--epochs", "1"));
    assertEquals("--kernels needs a value", error("--kernels"));
    assertEquals("unknown argument --help", error("--help"));
  }

  private static String error(String... args) {
    return assertThrows(IllegalArgumentException.class, () -> LocalThroughputOptions.parse(args))
        .getMessage();
  }
}
