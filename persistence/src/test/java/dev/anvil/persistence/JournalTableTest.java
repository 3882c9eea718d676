package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class JournalTableTest {
  private static Config table(String settings) {
    return ConfigFactory.parseString(JournalTable.CONFIG + " { " + settings + " }")
        .withFallback(ConfigFactory.load());
  }

  @Test
  void thePluginsDefaultIsTheTableItsSchemaCreates() {
    assertEquals("event_journal", JournalTable.name(ConfigFactory.load()));
  }

  @Test
  void aSchemaInTheConfigQualifiesTheName() {
    assertEquals(
        "anvil.journal", JournalTable.name(table("schemaName = anvil, tableName = journal")));
    assertEquals(
        "journal",
        JournalTable.name(table("schemaName = \" \", tableName = journal")),
        "a blank schema is none");
  }
}
