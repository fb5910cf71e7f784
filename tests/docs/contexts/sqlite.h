// Context of the SQLite fragments (docs/sqlite.md): an open connection, a
// statement and options.
#pragma once

#include "default.h"

extern sqlite3* db;
extern sqlite3_stmt* st;
extern otelweb::sqlite::Options options;
