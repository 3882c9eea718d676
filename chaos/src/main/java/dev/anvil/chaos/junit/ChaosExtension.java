package dev.anvil.chaos.junit;

import dev.anvil.chaos.ChaosCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one {@link ChaosCluster} per test class annotated {@link ChaosTest} (lazily, when a method
 * first asks for it) and closes it after the class; node logs and the database stay under {@code
 * target/chaos/<class name>}.
 */
public final class ChaosExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ChaosExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == ChaosCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    ChaosTest settings = testClass.getAnnotation(ChaosTest.class);
    if (settings == null) {
      throw new ParameterResolutionException(
          testClass.getName() + " asks for a ChaosCluster" + " but is not annotated @ChaosTest");
    }
    Path dir = Path.of("target", "chaos", testClass.getSimpleName());
    return classContextOf(context)
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            ClusterResource.class,
            k -> {
              ChaosCluster.clearDirectory(dir);
              return new ClusterResource(
                  ChaosCluster.start(
                      LocalClusterSettings.of(settings.nodes(), settings.slotsPerNode(), dir)
                          .withHeap(settings.heap())));
            },
            ClusterResource.class)
        .cluster();
  }

  private static ExtensionContext classContextOf(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }

  /** Closes the cluster when JUnit closes the class's store. */
  private record ClusterResource(ChaosCluster cluster)
      implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      cluster.close();
    }
  }
}
