package dev.anvil.chaos.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.scenario.Scenario;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A chaos run's report: {@code report.json} (the verdict, the fault operations, the progress
 * samples), {@code report.md} (the same for people) and {@code timeline.png} (loss and rounds/s
 * over time, a marker per fault, recovery periods shaded; see {@link Timeline}).
 */
public final class Report {
  private Report() {}

  public static void write(
      Path dir, Scenario scenario, Verdict verdict, History history, double seconds) {
    try {
      Files.createDirectories(dir);
      String chart;
      try {
        Timeline.draw(history, verdict, scenario.name(), dir.resolve("timeline.png"));
        chart = "![timeline](timeline.png)";
      } catch (RuntimeException | Error e) {
        chart = "timeline.png could not be drawn: " + e; // e.g. a JDK without fonts
      }
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("scenario", scenario.name());
      json.put("seed", scenario.seed());
      json.put("nodes", scenario.nodes());
      json.put("seconds", Math.round(seconds * 10) / 10.0);
      json.put("verdict", verdict);
      json.put("operations", history.ops());
      json.put("progress", history.samples());
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(dir.resolve("report.json").toFile(), json);
      Files.writeString(
          dir.resolve("report.md"),
          markdown(scenario, verdict, history, seconds, chart),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the report to " + dir + ": " + e.getMessage(), e);
    }
  }

  static String markdown(
      Scenario scenario, Verdict v, History history, double seconds, String chart) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Chaos run: ").append(scenario.name()).append("\n\n");
    if (!scenario.description().isBlank()) {
      sb.append(scenario.description().strip()).append("\n\n");
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "Seed %d, %d nodes, %d workers, %.0f s.%n%n",
            scenario.seed(),
            scenario.nodes(),
            scenario.workers(),
            seconds));
    sb.append("**Verdict: ").append(v.valid()).append("**\n\n");
    for (String p : v.problems()) {
      sb.append("- ").append(p).append('\n');
    }
    sb.append("\n| check | value |\n|---|---|\n");
    row(sb, "rounds committed", v.roundsCommitted() + " of " + v.roundsExpected());
    row(sb, "lost", v.lost());
    row(sb, "duplicated", v.duplicated());
    row(sb, "out of order", v.outOfOrder());
    row(sb, "single-writer violations", v.singleWriterViolations());
    row(sb, "bad results rejected", v.rejectedResults());
    row(sb, "paramsSha256", v.paramsSha256() == null ? "-" : "`" + v.paramsSha256() + "`");
    row(
        sb,
        "fault-free reference",
        "`" + v.referenceSha256() + "`" + (v.hashEqual() ? " (equal)" : " (NOT equal)"));
    sb.append("\n## Faults\n\n| fault | injected | healed | survived |\n|---|---|---|---|\n");
    v.faults()
        .forEach(
            (type, c) ->
                sb.append("| ")
                    .append(type)
                    .append(" | ")
                    .append(c.injected())
                    .append(" | ")
                    .append(c.healed())
                    .append(" | ")
                    .append(c.survived())
                    .append(" |\n"));
    sb.append(
        "\n## Recovery times\n\nFrom the fault to the next committed round; the"
            + " longest stretch without a new committed round that began while it was active;"
            + " how long it was active.\n\n"
            + "| fault | target | to next round, ms | longest stall, ms | active, ms |\n"
            + "|---|---|---|---|---|\n");
    for (Verdict.RecoveryTime r : v.recoveries()) {
      sb.append("| ")
          .append(r.fault())
          .append(" | ")
          .append(r.target())
          .append(" | ")
          .append(r.millis() < 0 ? "-" : r.millis())
          .append(" | ")
          .append(r.stallMillis() < 0 ? "-" : r.stallMillis())
          .append(" | ")
          .append(r.activeMillis() < 0 ? "-" : r.activeMillis())
          .append(" |\n");
    }
    sb.append("\n## Nodes back in the job\n\n");
    if (v.workersWanted() > 0 && v.workersAtEnd() >= 0) {
      sb.append("Workers in the job's last round: ")
          .append(v.workersAtEnd())
          .append(" of the ")
          .append(v.workersWanted())
          .append(" it was submitted with.\n\n");
    }
    if (v.rejoins().isEmpty()) {
      sb.append("No node came back into the job.\n");
    } else {
      sb.append(
          "| node | restarted at, s | restart to first round using its workers, ms |\n"
              + "|---|---|---|\n");
      for (Verdict.Rejoin r : v.rejoins()) {
        sb.append(
            String.format(
                Locale.ROOT,
                "| %s | %.1f | %d |%n",
                r.node(),
                (r.restartedAtMillis() - history.startMillis()) / 1000.0,
                r.millis()));
      }
    }
    sb.append("\n## Timeline\n\n")
        .append(chart)
        .append(
            "\n\n## Operations\n\n"
                + "| s | op | fault | target | round | detail |\n|---|---|---|---|---|---|\n");
    List<History.Op> ops = history.ops();
    for (History.Op o : ops) {
      sb.append(
          String.format(
              Locale.ROOT,
              "| %.1f | %s | %s | %s | %d | %s |%n",
              (o.timeMillis() - history.startMillis()) / 1000.0,
              o.type(),
              o.fault(),
              o.target(),
              o.round(),
              o.detail().replace("|", "/")));
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String name, Object value) {
    sb.append("| ").append(name).append(" | ").append(value).append(" |\n");
  }
}
