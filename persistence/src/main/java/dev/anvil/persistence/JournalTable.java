package dev.anvil.persistence;

import com.typesafe.config.Config;

/**
 * pekko-persistence-jdbc's journal table, as Anvil's own SQL names it (reading rows, deleting old
 * ones): where the plugin's config puts it, so that Anvil's statements and the plugin's always
 * address the same table. The table's columns are the plugin's published schema.
 */
public final class JournalTable {
  /** Where the plugin's config describes the table. */
  public static final String CONFIG = "jdbc-journal.tables.event_journal";

  private JournalTable() {}

  /** The table's name in {@code config}, schema-qualified when the config names a schema. */
  public static String name(Config config) {
    Config table = config.getConfig(CONFIG);
    String schema = table.hasPath("schemaName") ? table.getString("schemaName").strip() : "";
    String name = table.getString("tableName");
    return schema.isEmpty() ? name : schema + "." + name;
  }
}
