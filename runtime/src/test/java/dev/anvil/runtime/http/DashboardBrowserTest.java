package dev.anvil.runtime.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The live dashboard in headless Chromium (Debian's chromium and chromium-driver; -Pfull): a 3-node
 * cluster trains a job, the page shows its progress; a worker node is killed with SIGKILL and the
 * page marks it down while the job's round keeps rising. The screenshot lands in
 * target/dashboard.png (docs/images/dashboard.png is one of them).
 */
@Tag("browser")
class DashboardBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  @TempDir Path dir;

  @Test
  void thePageShowsProgressAndANodeGoingDown() throws Exception {
    assertTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "the browser test needs Debian's chromium and chromium-driver"
            + " (apt-get install chromium chromium-driver; .ci/run installs them)");
    JobSpec spec =
        JobSpecParser.parse(
            """
        job {
          name = "dashboard", seed = 3
          model { type = mlp, layers = [24, 128, 4] }
          data { type = synthetic, samples = 6000, features = 24, classes = 4, seed = 1 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 96, logical-shards = 12, rounds = 12000, kernel = java
          checkpoint { every-rounds = 100 }
        }
        """,
            "dashboard",
            null);
    try (LocalCluster cluster =
        LocalCluster.start(LocalClusterSettings.of(3, 1, dir).withHeap("1g"))) {
      AtomicReference<String> coordinator = new AtomicReference<>();
      AtomicLong round = new AtomicLong();
      JobClient.submit(
          cluster.client(),
          "dashboard",
          spec,
          3,
          u -> {
            if (u instanceof dev.anvil.coordinator.JobProtocol.Accepted a) {
              coordinator.set(a.coordinator());
            } else if (u instanceof dev.anvil.coordinator.JobProtocol.Progress p) {
              round.set(p.round());
            }
          });
      ChromeOptions options = new ChromeOptions();
      options.setBinary(CHROMIUM.toFile());
      options.addArguments(
          "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,900");
      ChromeDriverService service =
          new ChromeDriverService.Builder()
              .usingDriverExecutable(CHROMEDRIVER.toFile())
              .usingAnyFreePort()
              .build();
      WebDriver browser = new ChromeDriver(service, options);
      try {
        browser.get(cluster.httpUrls().get(0) + "/");
        // The page redraws its rows on every event: an element read between a lookup and its
        // text is stale, and the wait looks again.
        var wait =
            new WebDriverWait(browser, Duration.ofSeconds(90))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        wait.until(b -> roundShown(b) >= 100);
        int victim = victim(cluster, coordinator.get());
        String address = cluster.addresses().get(victim);
        wait.until(b -> statusOf(b, address).equals("up"));
        long before = wait.until(b -> roundShown(b) >= 0 ? roundShown(b) : null);
        cluster.kill(victim);
        wait.until(b -> statusOf(b, address).equals("down"));
        wait.until(b -> roundShown(b) > before + 200);
        String timeline = browser.findElement(By.id("timeline")).getText();
        // The launcher downs the incarnation it killed at once, often before the failure
        // detector marks it unreachable: the timeline names it down, with its incarnation.
        assertTrue(
            timeline.contains(address + " (incarnation ")
                && (timeline.contains(") down") || timeline.contains(") unreachable")),
            timeline);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(
            shot.toPath(), Path.of("target", "dashboard.png"), StandardCopyOption.REPLACE_EXISTING);
      } finally {
        browser.quit();
        service.stop();
      }
      assertTrue(round.get() > 0);
    }
  }

  /** A node that hosts workers but not the coordinator (and is not node 1, the page's). */
  private static int victim(LocalCluster cluster, String coordinator) {
    for (int i = cluster.size() - 1; i > 0; i--) {
      if (!cluster.addresses().get(i).equals(coordinator)) {
        return i;
      }
    }
    throw new AssertionError("no node to kill besides node 1 and the coordinator's");
  }

  private static long roundShown(WebDriver browser) {
    var rounds = browser.findElements(By.cssSelector("[data-job='dashboard'] .round"));
    return rounds.isEmpty() ? -1 : Long.parseLong(rounds.get(0).getText());
  }

  private static String statusOf(WebDriver browser, String address) {
    var cells = browser.findElements(By.cssSelector("tr[data-node='" + address + "'] .status"));
    return cells.isEmpty() ? "" : cells.get(0).getText();
  }

  static {
    // Never let Selenium Manager try to download a driver: there is no network for it here.
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
  }
}
