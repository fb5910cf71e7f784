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

TEST(SanitizeSql, DoubleQuotedValuesAreLiteralsToo) {
  // SQLite reads "alice" as a string when no column has that name (DQS).
  EXPECT_EQ(Sanitized("SELECT \"name\" FROM users WHERE \"name\" = \"alice\" OR pw LIKE \"s3cret%\""),
            "SELECT \"name\" FROM users WHERE \"name\" = ? OR pw LIKE ?");
  EXPECT_EQ(Sanitized("INSERT INTO t (\"a\", \"b\") VALUES (\"x\", lower(\"y\")), (\"z\", 1)"),
            "INSERT INTO t (\"a\", \"b\") VALUES (?, lower(?)), (\"z\", ?)");
  EXPECT_EQ(Sanitized("SELECT * FROM t WHERE c IN (\"p\", \"q\") AND \"d\" > 0"),
            "SELECT * FROM t WHERE c IN (?, ?) AND \"d\" > ?");
}

TEST(SanitizeSql, KeepsIdentifiersParametersAndComments) {
  EXPECT_EQ(
      Sanitized("SELECT \"col 1\", [x'y], `z`, t1.c2 FROM t2 WHERE a = ? AND b = :b AND c = @c "
                "AND d = $d AND e = ?3"),
      "SELECT \"col 1\", [x'y], `z`, t1.c2 FROM t2 WHERE a = ? AND b = :b AND c = @c AND d = $d "
      "AND e = ?3");
  EXPECT_EQ(Sanitized("-- it's a comment\nSELECT /* 'x' */ 1"),
            "-- it's a comment\nSELECT /* 'x' */ ?");
  EXPECT_EQ(Sanitized("SELECT x FROM t WHERE y='unterminated"), "SELECT x FROM t WHERE y=?");
  EXPECT_EQ(Sanitized("SELECT abc123, _x9 FROM t"), "SELECT abc123, _x9 FROM t");
  EXPECT_EQ(Sanitized(""), "");
}

TEST(AnalyzeSql, OperationAndSummary) {
  struct Case {
    const char* sql;
    const char* op;
    const char* summary;
  } cases[] = {
      {"SELECT id, name FROM items ORDER BY id", "SELECT", "SELECT items"},
      {"select * from \"My Table\" where x = 1", "select", "select My Table"},
      {"SELECT * FROM main.items", "SELECT", "SELECT main.items"},
      {"SELECT * FROM items i WHERE i.id = 1", "SELECT", "SELECT items"},
      {"SELECT * FROM items AS i", "SELECT", "SELECT items"},
      {"SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", "SELECT a b"},
      {"SELECT * FROM a x, b y WHERE x.id = y.id", "SELECT", "SELECT a b"},
      {"SELECT * FROM a LEFT JOIN b USING (id)", "SELECT", "SELECT a b"},
      {"SELECT (SELECT max(x) FROM other) FROM items", "SELECT", "SELECT SELECT other items"},
      {"SELECT * FROM (SELECT 1 FROM t)", "SELECT", "SELECT SELECT t"},
      {"SELECT 1", "SELECT", "SELECT"},
      {"SELECT * FROM json_each('[1]')", "SELECT", "SELECT"},
      {"SELECT replace(name, 'a', 'b') FROM items", "SELECT", "SELECT items"},
      {"INSERT INTO items (name) VALUES (?)", "INSERT", "INSERT items"},
      {"INSERT OR REPLACE INTO [items] VALUES (1)", "INSERT", "INSERT items"},
      {"INSERT INTO archive SELECT * FROM items WHERE old", "INSERT",
       "INSERT archive SELECT items"},
      {"REPLACE INTO items VALUES (1)", "REPLACE", "REPLACE items"},
      {"UPDATE items SET name = 'x'", "UPDATE", "UPDATE items"},
      {"UPDATE OR IGNORE items SET n = (SELECT max(n) FROM t)", "UPDATE", "UPDATE items SELECT t"},
      {"DELETE FROM items WHERE id = 3", "DELETE", "DELETE items"},
      {"INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET n = n + 1", "INSERT", "INSERT t UPDATE"},
      {"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY)", "CREATE", "CREATE TABLE items"},
      {"CREATE TEMP TABLE t (x)", "CREATE", "CREATE TABLE t"},
      {"CREATE UNIQUE INDEX IF NOT EXISTS ix ON items(name)", "CREATE", "CREATE INDEX items"},
      {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END", "CREATE", "CREATE TRIGGER"},
      {"DROP TABLE IF EXISTS items", "DROP", "DROP TABLE items"},
      {"ALTER TABLE items ADD COLUMN x", "ALTER", "ALTER TABLE items"},
      {"WITH c(n) AS (SELECT 1 FROM other) SELECT n FROM c", "SELECT", "SELECT other SELECT c"},
      {"/* leading */ -- and another\n  pragma user_version", "pragma", "pragma"},
      {"BEGIN", "BEGIN", "BEGIN"},
      {"SELECT 1; DROP TABLE x", "SELECT", "SELECT"},
      {"", "", ""},
      {"(SELECT 1)", "", ""},
      {"  ", "", ""},
      {"FROM x SELECT 1", "SELECT", "SELECT"},  // tables count only after an operation
  };
  for (const Case& c : cases) {
    SqlInfo info = AnalyzeSql(c.sql);
    EXPECT_EQ(info.operation, c.op) << c.sql;
    EXPECT_EQ(info.summary, c.summary) << c.sql;
  }
}

TEST(AnalyzeSql, OverlongFirstWordIsNoOperation) {
  SqlInfo info = AnalyzeSql(std::string(300, 'x'));
  EXPECT_EQ(info.operation, "");
  EXPECT_EQ(info.summary, "");
}

TEST(AnalyzeSql, SummaryIsBounded) {
  std::string sql = "SELECT * FROM t0";
  for (int i = 1; i < 200; ++i) sql += " JOIN table_number_" + std::to_string(i) + " USING (id)";
  SqlInfo info = AnalyzeSql(sql);
  EXPECT_LE(info.summary.size(), 255u);
  EXPECT_TRUE(info.summary.starts_with("SELECT t0 table_number_1 table_number_2"));
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
