package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a job runs is visible: {@code GET /api/jobs/ID} names the coordinator's node and the
 * workers per node incarnation, {@code /api/cluster} what each member does for the job, {@code
 * /metrics} the job's workers on the coordinator's node, and the node logs say when a node's
 * workers join or leave the job; before and after a worker node is killed and started again (its
 * new incarnation, a new uid, is back in the placement).
 */
class PlacementTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  @Test
  void theCoordinatorsNodeAndTheWorkersPerNodeAreShownBeforeAndAfterARestart() throws Exception {
    JobSpec spec = TestJobs.faultJob("placement", 100_000);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      FollowedJob job = FollowedJob.submit(cluster, "placement", spec, 3);
      job.awaitRound(100, Duration.ofSeconds(90));
      int coordinator = cluster.addresses().indexOf(job.coordinator());
      int worker = (coordinator + 1) % 3;
      String api = cluster.httpUrls().get(coordinator);
      String workerAddress = cluster.addresses().get(worker);

      JsonNode before =
          await(
              api + "/api/jobs/placement",
              j -> workersOf(j).size() == 3,
              "3 nodes with a worker each");
      assertEquals(
          cluster.addresses().get(coordinator),
          before.path("placement").path("coordinator").path("node").asText(),
          before::toString);
      Map<String, Long> uidsBefore = workersOf(before);
      assertEquals(
          cluster.addresses().stream().sorted().toList(),
          uidsBefore.keySet().stream().sorted().toList(),
          before::toString);
      for (JsonNode n : before.path("placement").path("workers")) {
        assertEquals(1, n.path("workers").asInt(), before::toString);
      }
      JsonNode members = get(api + "/api/cluster").path("members");
      for (JsonNode m : members) {
        String address = m.path("address").asText();
        if (address.equals(cluster.addresses().get(coordinator))) {
          assertEquals("placement", m.path("coordinates").path(0).asText(), m::toString);
        }
        if (uidsBefore.containsKey(address)) {
          assertEquals(1, m.path("jobWorkers").path("placement").asInt(), m::toString);
        }
      }
      String metrics = text(api + "/metrics");
      assertTrue(metrics.contains("anvil_job_workers{job=\"placement\"} 3.0"), metrics);
      assertTrue(
          cluster.tail(worker, 400).contains("is ready for job placement"),
          cluster.tail(worker, 40));
      assertTrue(
          cluster.tail(coordinator, 400).contains("workers on"), cluster.tail(coordinator, 40));

      cluster.kill(worker);
      cluster.restart(worker);
      JsonNode after =
          await(
              api + "/api/jobs/placement",
              j -> {
                Long uid = workersOf(j).get(workerAddress);
                return workersOf(j).size() == 3
                    && uid != null
                    && !uid.equals(uidsBefore.get(workerAddress));
              },
              "node " + workerAddress + " back in the job with a new incarnation");
      assertNotEquals(uidsBefore.get(workerAddress), workersOf(after).get(workerAddress));
      assertTrue(
          cluster.tail(worker, 400).contains("is ready for job placement"),
          "the restarted node's log says its worker joined the job:\n" + cluster.tail(worker, 40));
    }
  }

  /** Node address to uid, for the nodes with workers in the job's placement. */
  static Map<String, Long> workersOf(JsonNode status) {
    Map<String, Long> out = new HashMap<>();
    for (JsonNode n : status.path("placement").path("workers")) {
      out.put(n.path("node").asText(), n.path("uid").asLong());
    }
    return out;
  }

  static JsonNode await(String url, Predicate<JsonNode> condition, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    JsonNode last = get(url);
    while (!condition.test(last)) {
      assertTrue(System.nanoTime() < deadline, "not seen within 90 s: " + what + "; last: " + last);
      TimeUnit.MILLISECONDS.sleep(250); // polling the API
      last = get(url);
    }
    return last;
  }

  static JsonNode get(String url) throws Exception {
    return JSON.readTree(text(url));
  }

  static String text(String url) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), url + ": " + r.body());
    return r.body();
  }
}
