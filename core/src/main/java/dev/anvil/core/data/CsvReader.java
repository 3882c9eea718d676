package dev.anvil.core.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a numeric CSV file: one sample a line, comma-separated, an optional header row (detected
 * when the first line holds a value that is not a number). The label column is a 0-based index or a
 * header name. A label that is a whole number >= 0 on every row makes a classification set (classes
 * = largest label + 1); the raw label is also kept as a regression target.
 */
public final class CsvReader {
  private CsvReader() {}

  public static Dataset read(Path file, String labelColumn) {
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return parse(in, file.toString(), labelColumn);
    } catch (IOException e) {
      throw new DataException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  /** Bytes {@link #probe} reads at most. */
  static final int PROBE_BYTES = 1 << 20;

  /**
   * Checks the start of {@code file} (its first row, and the header row if any; at most 1 MiB) as
   * {@link #read} would, so that a job whose CSV cannot be read is refused when it is submitted
   * rather than when a node loads it. Throws the same {@link DataException}s.
   */
  public static void probe(Path file, String labelColumn) {
    byte[] head = new byte[PROBE_BYTES];
    int n = 0;
    try (java.io.InputStream in = Files.newInputStream(file)) {
      int read;
      while (n < head.length && (read = in.read(head, n, head.length - n)) > 0) {
        n += read;
      }
    } catch (IOException e) {
      throw new DataException(file + " cannot be read: " + e.getMessage(), e);
    }
    String text = new String(head, 0, n, StandardCharsets.UTF_8);
    if (n == PROBE_BYTES) {
      int lastLine = text.lastIndexOf('\n');
      text = lastLine < 0 ? "" : text.substring(0, lastLine + 1);
      if (text.isBlank()) {
        throw new DataException(
            file + " line 1 is longer than " + PROBE_BYTES + " bytes: not a CSV data set");
      }
    }
    try {
      parse(new BufferedReader(new java.io.StringReader(text)), file.toString(), labelColumn, 1);
    } catch (IOException e) {
      throw new DataException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  static Dataset parse(BufferedReader in, String name, String labelColumn) throws IOException {
    return parse(in, name, labelColumn, Integer.MAX_VALUE);
  }

  /** Parses up to {@code maxRows} data rows; with fewer than all, only checks them. */
  private static Dataset parse(BufferedReader in, String name, String labelColumn, int maxRows)
      throws IOException {
    String line;
    int lineNo = 0;
    int columns = -1;
    int label = -1;
    List<float[]> rows = new ArrayList<>();
    while (rows.size() < maxRows && (line = in.readLine()) != null) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String[] fields = line.split(",", -1);
      if (columns < 0) {
        columns = fields.length;
        if (columns < 2) {
          throw new DataException(
              name
                  + " line "
                  + lineNo
                  + " has "
                  + columns
                  + " column; a CSV data set needs at least one feature and a label");
        }
        boolean header = Arrays.stream(fields).anyMatch(f -> !isNumber(f));
        label = labelIndex(name, labelColumn, header ? fields : null, columns);
        if (header) {
          continue;
        }
      }
      if (fields.length != columns) {
        throw new DataException(
            name
                + " line "
                + lineNo
                + " has "
                + fields.length
                + " columns, expected "
                + columns
                + " like the first line");
      }
      float[] row = new float[columns];
      for (int c = 0; c < columns; c++) {
        String f = fields[c].trim();
        try {
          row[c] = Float.parseFloat(f);
        } catch (NumberFormatException e) {
          throw new DataException(name + " line " + lineNo + " column " + c + " is not a number");
        }
        if (!Float.isFinite(row[c])) {
          throw new DataException(
              name + " line " + lineNo + " column " + c + " is not a finite number");
        }
      }
      rows.add(row);
    }
    if (maxRows < Integer.MAX_VALUE) {
      if (rows.isEmpty()) {
        throw new DataException(name + " holds no data row");
      }
      return null;
    }
    if (rows.size() < 2) {
      throw new DataException(
          name
              + " holds "
              + rows.size()
              + " data rows; at least 2 are needed (one to train, one to test)");
    }
    return toDataset(rows, columns, label);
  }

  private static Dataset toDataset(List<float[]> rows, int columns, int label) {
    int n = rows.size();
    int features = columns - 1;
    float[] x = new float[n * features];
    float[] targets = new float[n];
    int[] labels = new int[n];
    boolean classification = true;
    int maxLabel = 0;
    for (int i = 0; i < n; i++) {
      float[] row = rows.get(i);
      int j = 0;
      for (int c = 0; c < columns; c++) {
        if (c == label) {
          targets[i] = row[c];
        } else {
          x[i * features + j++] = row[c];
        }
      }
      float t = targets[i];
      if (t < 0 || t != Math.rint(t) || t > 1_000_000) {
        classification = false;
      } else {
        labels[i] = (int) t;
        maxLabel = Math.max(maxLabel, labels[i]);
      }
    }
    return classification
        ? new Dataset(n, features, x, maxLabel + 1, labels, 1, targets)
        : new Dataset(n, features, x, 0, null, 1, targets);
  }

  private static int labelIndex(String name, String labelColumn, String[] header, int columns) {
    if (labelColumn.matches("\\d+")) {
      int index = Integer.parseInt(labelColumn);
      if (index >= columns) {
        throw new DataException(
            "job.data.label-column = "
                + labelColumn
                + ": "
                + name
                + " has "
                + columns
                + " columns, so the index must be from 0 to "
                + (columns - 1));
      }
      return index;
    }
    if (header == null) {
      throw new DataException(
          "job.data.label-column = \""
              + labelColumn
              + "\": "
              + name
              + " has no header row, so give the label column as a 0-based index");
    }
    for (int c = 0; c < header.length; c++) {
      if (header[c].trim().equals(labelColumn)) {
        return c;
      }
    }
    throw new DataException(
        "job.data.label-column = \""
            + labelColumn
            + "\": "
            + name
            + " has no column of that name in its header row of "
            + header.length
            + " columns");
  }

  private static boolean isNumber(String field) {
    try {
      Float.parseFloat(field.trim());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
