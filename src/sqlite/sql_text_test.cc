// The SQL tokenizer behind db.query.text sanitizing and span names.
#include "sqlite/sql_text.h"

#include <gtest/gtest.h>

namespace otelweb::sqlite::internal {
namespace {

std::string Sanitized(std::string_view sql) {
  std::string out;
  SanitizeSql(sql, &out);
  return out;
}

TEST(SanitizeSql, ReplacesLiterals) {
  EXPECT_EQ(Sanitized("SELECT * FROM t WHERE name = 'bob' AND age > 42"),
            "SELECT * FROM t WHERE name = ? AND age > ?");
  EXPECT_EQ(Sanitized("INSERT INTO t VALUES ('it''s', 3.14, -2, 1e10, 0xFF, X'CAFE', .5)"),
            "INSERT INTO t VALUES (?, ?, -?, ?, ?, ?, ?)");
  EXPECT_EQ(Sanitized("SELECT 1.5e-3, 2E+4"), "SELECT ?, ?");
}

TEST(SanitizeSql, KeepsIdentifiersParametersAndComments) {
  EXPECT_EQ(Sanitized("SELECT \"col 1\", [x'y], `z`, t1.c2 FROM t2 WHERE a = ? AND b = :b AND c = @c "
                      "AND d = $d AND e = ?3"),
            "SELECT \"col 1\", [x'y], `z`, t1.c2 FROM t2 WHERE a = ? AND b = :b AND c = @c AND d = $d "
            "AND e = ?3");
  EXPECT_EQ(Sanitized("-- it's a comment\nSELECT /* 'x' */ 1"), "-- it's a comment\nSELECT /* 'x' */ ?");
  EXPECT_EQ(Sanitized("SELECT x FROM t WHERE y='unterminated"), "SELECT x FROM t WHERE y=?");
  EXPECT_EQ(Sanitized("SELECT abc123, _x9 FROM t"), "SELECT abc123, _x9 FROM t");
  EXPECT_EQ(Sanitized(""), "");
}

TEST(AnalyzeSql, OperationAndTable) {
  struct Case {
    const char* sql;
    const char* op;
    const char* table;
  } cases[] = {
      {"SELECT id, name FROM items ORDER BY id", "SELECT", "items"},
      {"select * from \"My Table\" where x = 1", "SELECT", "My Table"},
      {"SELECT * FROM main.items", "SELECT", "main.items"},
      {"SELECT * FROM items i WHERE i.id = 1", "SELECT", "items"},
      {"SELECT * FROM items AS i", "SELECT", "items"},
      {"SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", ""},
      {"SELECT * FROM a, b", "SELECT", ""},
      {"SELECT * FROM a LEFT JOIN b USING (id)", "SELECT", ""},
      {"SELECT (SELECT max(x) FROM other) FROM items", "SELECT", "items"},
      {"SELECT * FROM (SELECT 1)", "SELECT", ""},
      {"SELECT 1", "SELECT", ""},
      {"SELECT * FROM json_each('[1]')", "SELECT", ""},
      {"INSERT INTO items (name) VALUES (?)", "INSERT", "items"},
      {"INSERT OR REPLACE INTO [items] VALUES (1)", "INSERT", "items"},
      {"REPLACE INTO items VALUES (1)", "REPLACE", "items"},
      {"UPDATE items SET name = 'x'", "UPDATE", "items"},
      {"UPDATE OR IGNORE items SET name = 'x'", "UPDATE", "items"},
      {"DELETE FROM items WHERE id = 3", "DELETE", "items"},
      {"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY)", "CREATE", "items"},
      {"CREATE TEMP TABLE t (x)", "CREATE", "t"},
      {"CREATE INDEX ix ON items(name)", "CREATE", ""},
      {"DROP TABLE IF EXISTS items", "DROP", "items"},
      {"ALTER TABLE items ADD COLUMN x", "ALTER", "items"},
      {"WITH c(n) AS (SELECT 1 FROM other) SELECT n FROM c", "SELECT", "c"},
      {"WITH c AS (SELECT 1) INSERT INTO items SELECT * FROM c", "INSERT", "items"},
      {"/* leading */ -- and another\n  pragma user_version", "PRAGMA", ""},
      {"BEGIN", "BEGIN", ""},
      {"SELECT 1; DROP TABLE x", "SELECT", ""},
      {"", "", ""},
      {"(SELECT 1)", "", ""},
      {"  ", "", ""},
  };
  for (const Case& c : cases) {
    SqlInfo info = AnalyzeSql(c.sql);
    EXPECT_EQ(info.operation, c.op) << c.sql;
    EXPECT_EQ(info.collection, c.table) << c.sql;
  }
}

TEST(SqliteCodeName, Names) {
  EXPECT_EQ(SqliteCodeName(1), "SQLITE_ERROR");
  EXPECT_EQ(SqliteCodeName(19), "SQLITE_CONSTRAINT");
  EXPECT_EQ(SqliteCodeName(2067), "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_EQ(SqliteCodeName(1299), "SQLITE_CONSTRAINT_NOTNULL");
  EXPECT_EQ(SqliteCodeName(5), "SQLITE_BUSY");
  EXPECT_EQ(SqliteCodeName(10 | (1 << 8)), "SQLITE_IOERR");  // unknown extended: the primary name
  EXPECT_EQ(SqliteCodeName(-3), "SQLITE_-3");
}

}  // namespace
}  // namespace otelweb::sqlite::internal
