package dev.anvil.chaos.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class that gets a {@link dev.anvil.chaos.ChaosCluster}: a local cluster of separate node
 * JVMs with chaos agents, started once for the class and stopped after it. Test methods (and
 * lifecycle methods) take it as a parameter:
 *
 * <pre>
 * &#64;ChaosTest(nodes = 3)
 * class MyClusterTest {
 *   &#64;Test
 *   void survivesAWorkerCrash(ChaosCluster cluster) throws Exception {
 *     FollowedJob job = cluster.submit("my-job", spec, 3);
 *     job.awaitRound(500, Duration.ofSeconds(60));
 *     cluster.inject(new KillNode(cluster, List.of(2), Duration.ofSeconds(60)), job.round());
 *     Verdict v = cluster.verdict(job, Reference.of(spec), Duration.ofMinutes(3));
 *     assertEquals(Verdict.Validity.TRUE, v.valid(), v.problems()::toString);
 *   }
 * }
 * </pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ChaosExtension.class)
public @interface ChaosTest {
  /** Node JVMs. */
  int nodes() default 3;

  /** Worker slots per node. */
  int slotsPerNode() default 1;

  /** Heap of each node JVM (-Xmx). */
  String heap() default "1g";
}
