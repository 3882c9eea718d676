package dev.anvil.persistence;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Checkpoint bytes in their own table beside the journal ({@value #TABLE}), one row per job and
 * round, or, when a directory is given, in files there with only their row in the table. The
 * journal holds only a reference (the round and the checksum): Pekko's snapshot store is not used,
 * because storing a snapshot stalls the event-sourced actor and the jdbc plugin loads only the
 * newest snapshot row, so a corrupt one could not be skipped.
 *
 * <p>One connection, opened on first use and opened again after a failure. A call that finds it
 * lost (ended by the server, an idle timeout, a restart or the network) is made once more on a new
 * connection: every call may be repeated ({@link #deleteBefore} then counts only the rows the
 * second try deleted). Calls are blocking (run them off actor threads) and serialized.
 */
public final class CheckpointStore implements CheckpointRepository {
  public static final String TABLE = "anvil_checkpoint";

  static final String DDL =
      "CREATE TABLE IF NOT EXISTS "
          + TABLE
          + " ("
          + "job_id TEXT NOT NULL, round BIGINT NOT NULL, sha256 TEXT NOT NULL,"
          + " size BIGINT NOT NULL, data BYTEA NOT NULL,"
          + " written_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),"
          + " PRIMARY KEY (job_id, round))";

  /** Incremental mode's log of reduced gradients, one row per job and round. */
  public static final String GRADIENTS = "anvil_round_gradient";

  static final String GRADIENTS_DDL =
      "CREATE TABLE IF NOT EXISTS "
          + GRADIENTS
          + " ("
          + "job_id TEXT NOT NULL, round BIGINT NOT NULL, loss_sum DOUBLE PRECISION NOT NULL,"
          + " samples BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (job_id, round))";

  /**
   * Round {@code round}'s reduced gradient sum (before the division by the batch size), with its
   * loss sum and sample count: what the optimizer step of that round consumed.
   */
  public record RoundGradient(long round, float[] gradient, double lossSum, long samples) {}

  /** A stored checkpoint's row, without its bytes, and where the bytes are. */
  public record Stored(String jobId, long round, String sha256, long size, String location) {
    /** A checkpoint whose bytes are in the table. */
    public Stored(String jobId, long round, String sha256, long size) {
      this(jobId, round, sha256, size, CheckpointStore.location(jobId, round));
    }
  }

  private final DatabaseSettings db;

  /** Where checkpoint bytes go as files; null: in the table. */
  private final Path directory;

  private Connection connection;

  /** Checkpoints whose bytes are stored in the table. */
  public CheckpointStore(DatabaseSettings db) {
    this(db, null);
  }

  /**
   * Checkpoints whose bytes are files under {@code directory} ({@code <directory>/job-<job
   * id>/<round>.ckpt}, written to a temporary name, forced to disk and renamed), with their row
   * (round, checksum, size, no bytes) in the table; null keeps the bytes in the table. Every node
   * that may run the job's coordinator must see the same directory (one host, or a shared file
   * system): a node that cannot read a checkpoint skips it as missing.
   */
  public CheckpointStore(DatabaseSettings db, Path directory) {
    this.db = db;
    this.directory = directory;
  }

  /** Where a checkpoint is, as the journal records it. */
  public static String location(String jobId, long round) {
    return "postgres:" + TABLE + "/" + jobId + "/" + round;
  }

  /** Creates the table unless it exists. */
  public static void createIfMissing(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(DDL);
      // Float bits do not compress; without this PostgreSQL tries (the spec at the front
      // compresses) and spends ~90 ms of a 150 ms write on an 8.5 MB checkpoint for nothing.
      s.execute("ALTER TABLE " + TABLE + " ALTER COLUMN data SET STORAGE EXTERNAL");
      s.execute(GRADIENTS_DDL);
      s.execute("ALTER TABLE " + GRADIENTS + " ALTER COLUMN data SET STORAGE EXTERNAL");
    }
  }

  /**
   * Stores rounds' gradients in one transaction (a round already stored is left as it is: the same
   * round always has the same gradient).
   */
  @Override
  public synchronized void writeGradients(String jobId, List<RoundGradient> rounds) {
    if (rounds.isEmpty()) {
      return;
    }
    run(
        "write the gradients of rounds "
            + rounds.get(0).round()
            + ".."
            + rounds.get(rounds.size() - 1).round()
            + " of job "
            + jobId,
        c -> {
          c.setAutoCommit(false);
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO "
                      + GRADIENTS
                      + " (job_id, round, loss_sum, samples, data) VALUES (?, ?, ?, ?, ?)"
                      + " ON CONFLICT (job_id, round) DO NOTHING")) {
            for (RoundGradient g : rounds) {
              p.setString(1, jobId);
              p.setLong(2, g.round());
              p.setDouble(3, g.lossSum());
              p.setLong(4, g.samples());
              p.setBytes(5, FloatBytes.encode(g.gradient()));
              p.addBatch();
            }
            p.executeBatch();
            c.commit();
          } finally {
            c.setAutoCommit(true);
          }
          return null;
        });
  }

  /** Job {@code jobId}'s stored gradients of rounds {@code from..to}, in round order. */
  @Override
  public synchronized List<RoundGradient> readGradients(String jobId, long from, long to) {
    return run(
        "read the gradients of rounds " + from + ".." + to + " of job " + jobId,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT round, loss_sum, samples, data FROM "
                      + GRADIENTS
                      + " WHERE job_id = ? AND round BETWEEN ? AND ? ORDER BY round")) {
            p.setString(1, jobId);
            p.setLong(2, from);
            p.setLong(3, to);
            List<RoundGradient> out = new ArrayList<>();
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                out.add(
                    new RoundGradient(
                        r.getLong(1),
                        FloatBytes.decode(r.getBytes(4)),
                        r.getDouble(2),
                        r.getLong(3)));
              }
            }
            return out;
          }
        });
  }

  /** Deletes job {@code jobId}'s gradients of rounds up to {@code round}; returns how many. */
  @Override
  public synchronized int deleteGradientsThrough(String jobId, long round) {
    return run(
        "delete old gradients of job " + jobId,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM " + GRADIENTS + " WHERE job_id = ? AND round <= ?")) {
            p.setString(1, jobId);
            p.setLong(2, round);
            return p.executeUpdate();
          }
        });
  }

  /**
   * Stores {@code bytes} as job {@code jobId}'s checkpoint of round {@code round} (replacing a row
   * of the same round: rewriting a round writes the same bits) and returns its row.
   */
  @Override
  public synchronized Stored write(String jobId, long round, byte[] bytes, String sha256) {
    Path file = directory == null ? null : writeFile(jobId, round, bytes);
    byte[] inRow = file == null ? bytes : new byte[0];
    return run(
        "write the checkpoint of round " + round + " of job " + jobId,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "INSERT INTO "
                      + TABLE
                      + " (job_id, round, sha256, size, data) VALUES (?, ?, ?, ?, ?)"
                      + " ON CONFLICT (job_id, round) DO UPDATE SET sha256 = EXCLUDED.sha256,"
                      + " size = EXCLUDED.size, data = EXCLUDED.data, written_at = now()")) {
            p.setString(1, jobId);
            p.setLong(2, round);
            p.setString(3, sha256);
            p.setLong(4, bytes.length);
            p.setBytes(5, inRow);
            p.executeUpdate();
          }
          return file == null
              ? new Stored(jobId, round, sha256, bytes.length)
              : inFile(jobId, round, sha256, bytes.length);
        });
  }

  private Path folder(String jobId) {
    return directory.resolve("job-" + URLEncoder.encode(jobId, StandardCharsets.UTF_8));
  }

  private Path file(String jobId, long round) {
    return folder(jobId).resolve(round + ".ckpt");
  }

  /** The row of a checkpoint whose bytes are in its file. */
  private Stored inFile(String jobId, long round, String sha256, long size) {
    return new Stored(jobId, round, sha256, size, "file:" + file(jobId, round));
  }

  /** A row without bytes for a non-empty checkpoint: the bytes are in a file. */
  private static boolean bytesInFile(long rowBytes, long size) {
    return rowBytes == 0 && size > 0;
  }

  /** Writes the bytes to a temporary file, forces them to disk and renames it into place. */
  private Path writeFile(String jobId, long round, byte[] bytes) {
    Path target = file(jobId, round);
    try {
      Files.createDirectories(target.getParent());
      Path temporary = Files.createTempFile(target.getParent(), round + ".", ".tmp");
      try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          out.write(b);
        }
        out.force(true);
      }
      Files.move(
          temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel folder = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
        folder.force(true); // the rename itself survives a crash
      }
      return target;
    } catch (IOException e) {
      throw new DatabaseException(
          "cannot write the checkpoint of round "
              + round
              + " of job "
              + jobId
              + " to "
              + target
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The bytes of job {@code jobId}'s checkpoint of round {@code round}, or null if none. */
  @Override
  public synchronized byte[] read(String jobId, long round) {
    return run(
        "read the checkpoint of round " + round + " of job " + jobId,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT data, size FROM " + TABLE + " WHERE job_id = ? AND round = ?")) {
            p.setString(1, jobId);
            p.setLong(2, round);
            try (ResultSet r = p.executeQuery()) {
              if (!r.next()) {
                return null;
              }
              byte[] data = r.getBytes(1);
              return bytesInFile(data.length, r.getLong(2)) ? readFile(jobId, round) : data;
            }
          }
        });
  }

  /** A checkpoint's file, or null when there is none here (or no directory is configured). */
  private byte[] readFile(String jobId, long round) {
    if (directory == null) {
      return null;
    }
    try {
      return Files.readAllBytes(file(jobId, round));
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new DatabaseException(
          "cannot read the checkpoint of round "
              + round
              + " of job "
              + jobId
              + " from "
              + file(jobId, round)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** Job {@code jobId}'s stored checkpoints, newest round first. */
  public synchronized List<Stored> list(String jobId) {
    return run(
        "list the checkpoints of job " + jobId,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement(
                  "SELECT round, sha256, size,"
                      + " octet_length(data) FROM "
                      + TABLE
                      + " WHERE job_id = ? ORDER BY round DESC")) {
            p.setString(1, jobId);
            List<Stored> out = new ArrayList<>();
            try (ResultSet r = p.executeQuery()) {
              while (r.next()) {
                long round = r.getLong(1);
                boolean inFile = directory != null && bytesInFile(r.getLong(4), r.getLong(3));
                out.add(
                    inFile
                        ? inFile(jobId, round, r.getString(2), r.getLong(3))
                        : new Stored(jobId, round, r.getString(2), r.getLong(3)));
              }
            }
            return out;
          }
        });
  }

  /** Deletes job {@code jobId}'s checkpoints of rounds before {@code round}; returns how many. */
  @Override
  public synchronized int deleteBefore(String jobId, long round) {
    if (directory != null) {
      deleteFilesBefore(jobId, round);
    }
    return run(
        "delete old checkpoints of job " + jobId,
        c -> {
          try (PreparedStatement p =
              c.prepareStatement("DELETE FROM " + TABLE + " WHERE job_id = ? AND round < ?")) {
            p.setString(1, jobId);
            p.setLong(2, round);
            return p.executeUpdate();
          }
        });
  }

  private void deleteFilesBefore(String jobId, long round) {
    Path folder = folder(jobId);
    if (!Files.isDirectory(folder)) {
      return;
    }
    // <round>.ckpt, and <round>.<random>.tmp left by a writer that died before its rename
    try (DirectoryStream<Path> files = Files.newDirectoryStream(folder)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        int dot = name.indexOf('.');
        try {
          if (dot > 0
              && (name.endsWith(".ckpt") || name.endsWith(".tmp"))
              && Long.parseLong(name.substring(0, dot)) < round) {
            Files.deleteIfExists(f);
          }
        } catch (NumberFormatException notOurs) {
          // a file Anvil did not write: left alone
        }
      }
    } catch (IOException e) {
      throw new DatabaseException(
          "cannot delete old checkpoint files of job "
              + jobId
              + " in "
              + folder
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private interface Sql<T> {
    T apply(Connection c) throws SQLException;
  }

  private <T> T run(String what, Sql<T> sql) {
    boolean reused = connection != null;
    while (true) {
      try {
        return sql.apply(connection());
      } catch (SQLException e) {
        closeQuietly();
        if (!reused || !lost(e)) {
          throw new DatabaseException(
              "cannot " + what + " in " + db.url() + ": " + e.getMessage(), e);
        }
        reused = false;
      }
    }
  }

  private Connection connection() throws SQLException {
    if (connection != null && connection.isClosed()) {
      closeQuietly();
    }
    if (connection == null) {
      connection = db.connect();
    }
    return connection;
  }

  /** Connection exceptions (class 08) and the server ending the session (57P01 to 57P05). */
  private static boolean lost(SQLException e) {
    String state = e.getSQLState();
    return state != null && (state.startsWith("08") || state.startsWith("57P"));
  }

  private void closeQuietly() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // a broken connection is dropped either way
      }
      connection = null;
    }
  }

  @Override
  public synchronized void close() {
    closeQuietly();
  }
}
