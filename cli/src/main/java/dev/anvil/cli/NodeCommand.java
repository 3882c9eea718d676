package dev.anvil.cli;

import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.runtime.node.AnvilNode;
import dev.anvil.runtime.node.NodeSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code anvil node}: one node of a cluster that spans machines. Every node uses the same
 * PostgreSQL: an external one ({@code --db}), or the embedded one that exactly one node hosts
 * ({@code --host-db}) and the others reach with {@code --db}.
 */
@Command(
    name = "node",
    description =
        "Run one cluster node in this process (several machines:"
            + " every node lists the others as seeds and uses the same PostgreSQL, an external one or"
            + " the one a node hosts with --host-db).")
final class NodeCommand implements Callable<Integer> {
  @Option(
      names = "--host",
      paramLabel = "HOST",
      defaultValue = "127.0.0.1",
      description = "Address other nodes reach this one at (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      required = true,
      description = "Cluster port of this node.")
  int port;

  @Option(
      names = "--seed",
      required = true,
      paramLabel = "HOST:PORT",
      split = ",",
      description =
          "Nodes to join through: list every other node (repeat --seed, or separate"
              + " with commas), so that a restarted node can join while some are down. Only the"
              + " node that forms the cluster lists its own address, first.")
  List<String> seeds;

  @Option(
      names = "--db",
      paramLabel = "URL",
      description =
          "JDBC URL of the journal's"
              + " PostgreSQL, jdbc:postgresql://HOST:PORT/DATABASE; the password comes from"
              + " ANVIL_DB_PASSWORD. Give --db or --host-db.")
  String db;

  @Option(
      names = "--host-db",
      paramLabel = "DIR",
      description =
          "Host the cluster's journal in"
              + " an embedded PostgreSQL on this node, data in DIR (other nodes then give --db with the"
              + " URL this node prints; the password comes from ANVIL_DB_PASSWORD).")
  Path hostDb;

  @Option(
      names = "--db-port",
      paramLabel = "PORT",
      defaultValue = "5432",
      description = "Port of the database --host-db starts (default: ${DEFAULT-VALUE}).")
  int dbPort;

  @Option(
      names = "--db-user",
      paramLabel = "USER",
      defaultValue = "anvil",
      description =
          "User"
              + " of --db (default: ${DEFAULT-VALUE}; give it no superuser rights). A node that hosts"
              + " the database (--host-db) logs in as anvil.")
  String dbUser;

  @Option(
      names = "--http-host",
      paramLabel = "HOST",
      defaultValue = "127.0.0.1",
      description =
          "Address of the HTTP API (default: ${DEFAULT-VALUE}); any other than"
              + " loopback needs ANVIL_HTTP_TOKEN.")
  String httpHost;

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      defaultValue = "8080",
      description = "Port of the HTTP API (default: ${DEFAULT-VALUE}; 0: any free port).")
  int httpPort;

  @Option(
      names = "--slots",
      paramLabel = "N",
      defaultValue = "2",
      description = "Worker slots on this node (default: ${DEFAULT-VALUE}).")
  int slots;

  @Option(
      names = "--tls",
      paramLabel = "DIR",
      description =
          "This node's credentials for"
              + " mutual TLS between all members (anvil certs issue --out DIR). Required unless the node"
              + " listens on loopback or --insecure-transport is given.")
  Path tls;

  @Option(
      names = "--https",
      description =
          "Serve the HTTP API over HTTPS with the node's"
              + " certificate (needs --tls; clients give --tls with a certificate of the same CA).")
  boolean https;

  @Option(
      names = "--insecure-transport",
      description =
          "Run the cluster port as plain TCP"
              + " off loopback: whoever reaches it can join the cluster (logged at every start).")
  boolean insecureTransport;

  @Option(
      names = "--data-root",
      paramLabel = "DIR",
      description =
          "A folder jobs may read data"
              + " files from, besides anvil.data.allowed-roots (/usr/share/datasets); repeat for"
              + " several. Every node that runs the job's workers or coordinator needs it.")
  List<Path> dataRoots = new ArrayList<>();

  @Override
  public Integer call() {
    if (db == null && hostDb == null) {
      throw new UserError(
          "anvil node needs --db jdbc:postgresql://HOST:PORT/DATABASE: nodes on"
              + " several hosts share one external PostgreSQL (the password comes from"
              + " ANVIL_DB_PASSWORD), or exactly one of them hosts an embedded one with --host-db DIR"
              + " and the others give --db with its URL; for a cluster on one machine use"
              + " `anvil local`");
    }
    if (db != null && hostDb != null) {
      throw new UserError(
          "--db and --host-db exclude each other: this node either uses the"
              + " database at --db or hosts one (--host-db)");
    }
    if (dbPort < 1 || dbPort > 65535) {
      throw new UserError("--db-port = " + dbPort + ": must be from 1 to 65535");
    }
    EmbeddedDatabase hosted = null;
    if (hostDb != null) {
      String password = System.getenv("ANVIL_DB_PASSWORD");
      if (password == null || password.isEmpty()) {
        throw new UserError(
            "--host-db needs ANVIL_DB_PASSWORD: the other nodes log in to this"
                + " node's database with it");
      }
      hosted = EmbeddedDatabase.startShared(hostDb, host, dbPort, password);
      db = hosted.jdbcUrl(host);
      dbUser = hosted.user();
      System.out.println(hostedDatabaseLine(hostDb, db, dbUser, hosted.database()));
    }
    AnvilNode node = AnvilNode.start(settings().build());
    System.out.println(
        "anvil node up at "
            + node.address()
            + " with "
            + slots
            + " worker slots; journal at "
            + db
            + node.httpUrl().map(url -> "; HTTP API on " + url).orElse("; HTTP API off"));
    EmbeddedDatabase database = hosted;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  if (database != null) {
                    database.close();
                  }
                }));
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }

  /**
   * This node's settings from the options (the database's once it is known): the same {@link
   * NodeSettings} a local cluster gives each of its node JVMs. A value out of range is refused
   * naming its option.
   */
  NodeSettings.Builder settings() {
    if (port < 1 || port > 65535) {
      throw new UserError("--port = " + port + ": must be from 1 to 65535");
    }
    if (httpPort < 0 || httpPort > 65535) {
      throw new UserError("--http-port = " + httpPort + ": must be from 0 to 65535");
    }
    for (String seed : seeds) {
      if (!seed.matches("[^:\\s]+:\\d{1,5}")) {
        throw new UserError("--seed = " + seed + ": expected HOST:PORT");
      }
    }
    NodeSettings.Builder node =
        NodeSettings.builder()
            .host(host)
            .port(port)
            .seeds(seeds)
            .database(db, dbUser)
            .slots(slots)
            .http(httpHost, httpPort)
            .insecureTransport(insecureTransport)
            .https(https);
    if (tls != null) {
      node = node.tls(tls);
    }
    return dataRoots.isEmpty() ? node : node.allowDataAlsoIn(DataRoots.existing(dataRoots));
  }

  /** What the other nodes need to use the database this node hosts. */
  static String hostedDatabaseLine(Path dir, String url, String user, String database) {
    return "journal database hosted here (data in "
        + dir
        + "): URL "
        + url
        + ", user "
        + user
        + ", database "
        + database
        + ". Start the other nodes with --db "
        + url
        + " --db-user "
        + user
        + " and the same password in their environment: ANVIL_DB_PASSWORD";
  }
}
