package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests set only settings that exist: every key of the ConfigMap's
 * application.conf (anvil.* and pekko.*) is in the modules' reference.conf, and the probes and
 * ports are the ones a node serves.
 */
class KubernetesManifestsTest {
  static final Path MANIFEST = Path.of("..", "deploy", "kubernetes", "anvil.yaml");

  /** The block under "application.conf: |", dedented. */
  static String applicationConf(String yaml) {
    List<String> out = new ArrayList<>();
    boolean in = false;
    int indent = -1;
    for (String line : yaml.split("\n")) {
      if (line.trim().equals("application.conf: |")) {
        in = true;
        continue;
      }
      if (in) {
        int lead = line.length() - line.stripLeading().length();
        if (!line.isBlank() && indent < 0) {
          indent = lead;
        }
        if (!line.isBlank() && lead < indent) {
          break;
        }
        out.add(line.length() >= indent ? line.substring(indent) : "");
      }
    }
    return String.join("\n", out);
  }

  @Test
  void everySettingTheManifestsSetExists() throws Exception {
    String yaml = Files.readString(MANIFEST);
    Config conf =
        ConfigFactory.parseString(applicationConf(yaml))
            .resolveWith(ConfigFactory.parseMap(Map.of("POD_NAME", "anvil-0")));
    Config reference = ConfigFactory.defaultReference();
    List<String> keys = new ArrayList<>();
    conf.entrySet().forEach(e -> keys.add(e.getKey()));
    assertTrue(keys.stream().filter(k -> k.startsWith("anvil.")).count() >= 7, keys::toString);
    for (String key : keys) {
      assertTrue(
          reference.hasPath(key),
          key + " is set by " + MANIFEST + " but exists in no reference.conf");
    }
    Matcher d =
        Pattern.compile("-D(anvil\\.[\\w.-]+)=")
            .matcher(yaml + Files.readString(Path.of("..", "deploy", "Dockerfile")));
    while (d.find()) {
      assertTrue(reference.hasPath(d.group(1)), d.group(1));
    }
    assertEquals("anvil-0.anvil-nodes", conf.getString("pekko.remote.artery.canonical.hostname"));
    assertTrue(
        conf.getStringList("pekko.cluster.seed-nodes")
            .get(0)
            .equals("pekko://anvil@anvil-0.anvil-nodes:25520"));
    assertEquals(8080, conf.getInt("anvil.http.port"));
    assertEquals(8081, conf.getInt("anvil.http.probe-port"));
    assertTrue(yaml.contains("containerPort: 8081") && yaml.contains("port: probes"));
    assertTrue(yaml.contains("path: /health/ready") && yaml.contains("path: /health/alive"));
    assertTrue(yaml.contains("name: ANVIL_HTTP_TOKEN"), "off loopback the API needs a token");
    assertEquals("tls-tcp", conf.getString("pekko.remote.artery.transport"));
    assertTrue(
        conf.getString("pekko.remote.artery.ssl.ssl-engine-provider")
            .endsWith("RotatingKeysSSLEngineProvider"));
    assertTrue(yaml.contains("secretName: anvil-tls"));
  }

  @Test
  void noPlaceholderSecretsNoRootAndOnlyNodesReachTheClusterPort() throws Exception {
    String postgres = Files.readString(Path.of("..", "deploy", "kubernetes", "postgres.yaml"));
    for (String yaml : List.of(Files.readString(MANIFEST), postgres)) {
      assertFalse(yaml.contains("kind: Secret"), "a shipped Secret is a placeholder");
      assertFalse(yaml.toLowerCase(java.util.Locale.ROOT).contains("change-me"));
      assertTrue(yaml.contains("runAsNonRoot: true"));
      assertTrue(yaml.contains("readOnlyRootFilesystem: true"));
      assertTrue(yaml.contains("allowPrivilegeEscalation: false"));
      assertTrue(yaml.contains("kind: NetworkPolicy"));
    }
    String anvil = Files.readString(MANIFEST);
    String policy = anvil.substring(anvil.indexOf("kind: NetworkPolicy"));
    assertTrue(policy.contains("port: 25520") && policy.contains("app: anvil"), policy);
    assertTrue(
        postgres.substring(postgres.indexOf("kind: NetworkPolicy")).contains("port: 5432"),
        postgres);
    assertTrue(Files.readString(Path.of("..", "deploy", "Dockerfile")).contains("USER 10001"));
  }
}
