// sqlite::Install() called after a connection was opened (issue 11, "More
// hints where users go wrong"): a process of its own, so that SQLite is not
// initialized before. The warning must name the per-connection call, and
// that call must attach the connection opened before. ctest checks the
// output (PASS_REGULAR_EXPRESSION) and the exit code.
#include <sqlite3.h>

#include <cstdio>

#include "otelweb/sqlite/sqlite.h"

int main() {
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;  // initializes SQLite
  otelweb::sqlite::Install();
  const bool attached = otelweb::sqlite::Instrument(db) && otelweb::sqlite::IsInstrumented(db);
  sqlite3_close(db);
  std::fprintf(stderr, attached ? "attached\n" : "NOT attached\n");
  return attached ? 0 : 1;
}
