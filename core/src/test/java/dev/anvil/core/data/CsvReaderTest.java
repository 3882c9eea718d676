package dev.anvil.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvReaderTest {
  @TempDir Path dir;

  private Path csv(String text) throws Exception {
    Path file = dir.resolve("d.csv");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void headerAndNamedLabelColumnMakeAClassificationSet() throws Exception {
    Dataset d = CsvReader.read(csv("a,label,b\n1,0,2\n3,2,4\n\n5,1,6\n"), "label");
    assertEquals(3, d.rows());
    assertEquals(2, d.features());
    assertEquals(3, d.classes());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, d.x());
    assertArrayEquals(new int[] {0, 2, 1}, d.labels());
  }

  @Test
  void realValuedLabelsMakeARegressionSet() throws Exception {
    Dataset d = CsvReader.read(csv("1,2,0.5\n3,4,-1.25\n"), "2");
    assertNull(d.labels());
    assertEquals(1, d.outputs());
    assertArrayEquals(new float[] {0.5f, -1.25f}, d.targets());
  }

  @Test
  void raggedRowIsRejectedWithItsLine() throws Exception {
    DataException e =
        assertThrows(DataException.class, () -> CsvReader.read(csv("1,2,0\n3,4\n"), "2"));
    assertEquals(
        dir.resolve("d.csv") + " line 2 has 2 columns, expected 3 like the first line",
        e.getMessage());
  }

  @Test
  void nonNumericValueIsRejectedWithLineAndColumn() throws Exception {
    DataException e =
        assertThrows(
            DataException.class, () -> CsvReader.read(csv("x,y,label\n1,2,0\n3,abc,1\n"), "label"));
    assertEquals(dir.resolve("d.csv") + " line 3 column 1 is not a number", e.getMessage());
  }

  @Test
  void labelIndexOutOfRangeIsRejected() throws Exception {
    DataException e =
        assertThrows(DataException.class, () -> CsvReader.read(csv("1,2,0\n3,4,1\n"), "3"));
    assertEquals(
        "job.data.label-column = 3: "
            + dir.resolve("d.csv")
            + " has 3 columns, so"
            + " the index must be from 0 to 2",
        e.getMessage());
  }

  @Test
  void unknownLabelNameIsRejectedWithoutQuotingTheFile() throws Exception {
    DataException e =
        assertThrows(
            DataException.class, () -> CsvReader.read(csv("a,b,c\n1,2,0\n3,4,1\n"), "class"));
    assertEquals(
        "job.data.label-column = \"class\": "
            + dir.resolve("d.csv")
            + " has no column of that name in its header row of 3 columns",
        e.getMessage());
  }

  @Test
  void theProbeChecksTheFirstRowsOnly() throws Exception {
    CsvReader.probe(csv("x,y,label\n1,2,0\n" + "oops\n".repeat(10)), "label");
    DataException header =
        assertThrows(
            DataException.class, () -> CsvReader.probe(csv("x,y,label\n1,2,0\n"), "class"));
    assertTrue(header.getMessage().contains("has no column of that name"), header::getMessage);
    DataException row =
        assertThrows(
            DataException.class, () -> CsvReader.probe(csv("x,y,label\n1,secret,0\n"), "label"));
    assertEquals(dir.resolve("d.csv") + " line 2 column 1 is not a number", row.getMessage());
    DataException empty =
        assertThrows(DataException.class, () -> CsvReader.probe(csv("x,y,label\n"), "label"));
    assertTrue(empty.getMessage().contains("holds no data row"), empty::getMessage);
    DataException longLine =
        assertThrows(
            DataException.class,
            () -> CsvReader.probe(csv("1".repeat(CsvReader.PROBE_BYTES + 10)), "0"));
    assertTrue(longLine.getMessage().contains("longer than"), longLine::getMessage);
  }
}
