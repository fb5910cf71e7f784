// SQL text analysis for the SQLite instrumentation (private): literal
// sanitizing for db.query.text, and the operation and single table that name
// the span. A small SQLite-flavoured tokenizer, not a parser: it never fails,
// it only answers "unknown" (empty) when unsure.
//
// Thread-safety: pure functions of their input.
#pragma once

#include <string>
#include <string_view>

namespace otelweb::sqlite::internal {

struct SqlInfo {
  // The first operation keyword as written (SELECT, insert, ...; for other
  // statements their first keyword: PRAGMA, BEGIN, ...).
  std::string operation;
  // db.query.summary, per the database semantic conventions: the operations
  // and the tables they name, in order, as written ("SELECT items",
  // "INSERT archive SELECT items", "SELECT orders customers"), at most 255
  // bytes. DDL: "CREATE TABLE items", "DROP INDEX".
  std::string summary;
};

// Appends `sql` to `out` with every literal (strings, numbers, blobs)
// replaced by '?'. Identifiers, keywords, parameters and comments are kept.
void SanitizeSql(std::string_view sql, std::string* out);

// Operation and summary of `sql` (one statement; text after the first
// top-level ';' is ignored).
SqlInfo AnalyzeSql(std::string_view sql);

// "SQLITE_CONSTRAINT_UNIQUE" for 2067, "SQLITE_ERROR" for 1; the primary
// code's name for unknown extended codes; "SQLITE_<n>" past that.
std::string SqliteCodeName(int code);

}  // namespace otelweb::sqlite::internal
