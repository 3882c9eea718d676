package dev.anvil.runtime.client;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.apache.pekko.cluster.MemberStatus;
import org.junit.jupiter.api.Test;

/** When a member following jobs gives up on its cluster, on a manual clock. */
class ClusterLossJudgeTest {
  private static final long S = 1_000_000_000L;

  @Test
  void noReachableNodeForLostAfterIsALoss() {
    ClusterLoss.Judge judge = new ClusterLoss.Judge(Duration.ofSeconds(15), 0);
    assertNull(judge.observe(MemberStatus.up(), true, 1 * S));
    assertNull(judge.observe(MemberStatus.up(), false, 10 * S), "9 s without a node");
    assertNull(judge.observe(MemberStatus.up(), false, 16 * S), "15 s: not more than lost-after");
    String why = judge.observe(MemberStatus.up(), false, 16 * S + 1);
    assertTrue(why.startsWith("no reachable node in the cluster for 15 s"), why);
  }

  @Test
  void aNodeSeenAgainRestartsTheCount() {
    ClusterLoss.Judge judge = new ClusterLoss.Judge(Duration.ofSeconds(15), 0);
    assertNull(judge.observe(MemberStatus.up(), false, 14 * S));
    assertNull(judge.observe(MemberStatus.up(), true, 15 * S));
    assertNull(judge.observe(MemberStatus.up(), false, 29 * S));
  }

  @Test
  void whileJoiningNothingIsLost() {
    ClusterLoss.Judge judge = new ClusterLoss.Judge(Duration.ofSeconds(15), 0);
    assertNull(judge.observe(MemberStatus.joining(), false, 100 * S));
    assertNull(judge.observe(MemberStatus.up(), false, 110 * S), "counted from the join");
  }

  @Test
  void downedRemovedOrLeavingIsALossAtOnce() {
    for (MemberStatus s : new MemberStatus[] {MemberStatus.down(), MemberStatus.removed()}) {
      String why = new ClusterLoss.Judge(Duration.ofSeconds(15), 0).observe(s, true, 0);
      assertTrue(why.contains("was downed by the cluster"), why);
    }
    String why =
        new ClusterLoss.Judge(Duration.ofSeconds(15), 0).observe(MemberStatus.leaving(), true, 0);
    assertTrue(why.contains("is leaving"), why);
  }
}
