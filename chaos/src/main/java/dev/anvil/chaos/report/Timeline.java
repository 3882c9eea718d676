package dev.anvil.chaos.report;

import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.history.History;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * timeline.png: training loss (left axis) and rounds per second (right axis) against seconds since
 * the run began, a red line per injected fault and a shaded band over its recovery (to the next
 * committed round, or over the longest stall it caused, whichever is longer).
 */
final class Timeline {
  /** A pause between progress reports longer than this is drawn as a stall. */
  private static final long GAP_MILLIS = 1500;

  private Timeline() {}

  static void draw(History history, Verdict verdict, String title, Path png) {
    System.setProperty("java.awt.headless", "true");
    long t0 = history.startMillis();
    List<History.Sample> samples = history.samples();
    XYSeries loss = new XYSeries("loss", true, true);
    XYSeries rate = new XYSeries("rounds/s", true, true);
    History.Sample windowStart = null;
    History.Sample previous = null;
    for (History.Sample s : samples) {
      double x = (s.timeMillis() - t0) / 1000.0;
      if (previous != null && s.timeMillis() - previous.timeMillis() > GAP_MILLIS) {
        // Nothing committed for a while: show the stall, do not draw a line across it.
        double from = (previous.timeMillis() - t0) / 1000.0;
        loss.add((from + x) / 2, null);
        rate.add(from + 0.001, 0);
        rate.add(x - 0.001, 0);
        windowStart = s;
      }
      previous = s;
      if (Double.isFinite(s.loss())) {
        loss.add(x, s.loss());
      }
      if (windowStart == null) {
        windowStart = s;
      } else if (s.timeMillis() - windowStart.timeMillis() >= 1000) {
        double r =
            (s.round() - windowStart.round())
                * 1000.0
                / (s.timeMillis() - windowStart.timeMillis());
        rate.add(x, r);
        windowStart = s;
      }
    }
    NumberAxis time = new NumberAxis("seconds since the run began");
    NumberAxis lossAxis = new NumberAxis("training loss");
    lossAxis.setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer lossLine = new XYLineAndShapeRenderer(true, false);
    lossLine.setSeriesPaint(0, new Color(0x1f, 0x77, 0xb4));
    XYPlot plot = new XYPlot(new XYSeriesCollection(loss), time, lossAxis, lossLine);
    NumberAxis rateAxis = new NumberAxis("rounds per second");
    plot.setRangeAxis(1, rateAxis);
    plot.setDataset(1, new XYSeriesCollection(rate));
    plot.mapDatasetToRangeAxis(1, 1);
    XYLineAndShapeRenderer rateLine = new XYLineAndShapeRenderer(true, false);
    rateLine.setSeriesPaint(0, new Color(0x2c, 0xa0, 0x2c));
    plot.setRenderer(1, rateLine);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    for (Verdict.RecoveryTime r : verdict.recoveries()) {
      double at = (r.injectedAtMillis() - t0) / 1000.0;
      long span = Math.max(r.millis(), r.stallMillis());
      if (span > 0) {
        IntervalMarker band = new IntervalMarker(at, at + span / 1000.0);
        band.setPaint(new Color(255, 140, 0, 60));
        plot.addDomainMarker(band, Layer.BACKGROUND);
      }
      ValueMarker line = new ValueMarker(at);
      line.setPaint(new Color(0xd6, 0x27, 0x28));
      line.setStroke(new BasicStroke(1.5f));
      line.setLabel(r.fault());
      line.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
      line.setLabelTextAnchor(TextAnchor.TOP_LEFT);
      plot.addDomainMarker(line);
    }
    JFreeChart chart =
        new JFreeChart(
            title + ": verdict " + verdict.valid(), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    try {
      ChartUtils.saveChartAsPNG(png.toFile(), chart, 1200, 560);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
    }
  }
}
