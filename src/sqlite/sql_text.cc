// SQL literal sanitizing and statement summary (see sql_text.h).
#include "sqlite/sql_text.h"

#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <vector>

namespace otelweb::sqlite::internal {

namespace {

enum class Tok : uint8_t {
  kEnd,
  kSpace,
  kComment,
  kWord,
  kQuotedIdent,
  kString,
  kNumber,
  kBlob,
  kParam,
  kPunct
};

bool IsIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '$'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Reads one token starting at s[i]; returns its kind and sets *end.
Tok Next(std::string_view s, size_t i, size_t* end) {
  const size_t n = s.size();
  if (i >= n) {
    *end = n;
    return Tok::kEnd;
  }
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (IsSpace(c)) {
    size_t j = i + 1;
    while (j < n && IsSpace(static_cast<unsigned char>(s[j]))) ++j;
    *end = j;
    return Tok::kSpace;
  }
  if (c == '-' && i + 1 < n && s[i + 1] == '-') {
    size_t j = s.find('\n', i);
    *end = j == std::string_view::npos ? n : j;
    return Tok::kComment;
  }
  if (c == '/' && i + 1 < n && s[i + 1] == '*') {
    size_t j = s.find("*/", i + 2);
    *end = j == std::string_view::npos ? n : j + 2;
    return Tok::kComment;
  }
  if ((c == 'x' || c == 'X') && i + 1 < n && s[i + 1] == '\'') {
    size_t j = s.find('\'', i + 2);
    *end = j == std::string_view::npos ? n : j + 1;
    return Tok::kBlob;
  }
  if (c == '\'') {
    size_t j = i + 1;
    while (j < n) {
      if (s[j] == '\'') {
        if (j + 1 < n && s[j + 1] == '\'') {
          j += 2;
          continue;
        }
        ++j;
        *end = j;
        return Tok::kString;
      }
      ++j;
    }
    *end = n;
    return Tok::kString;
  }
  if (c == '"' || c == '`' || c == '[') {
    const char close = c == '[' ? ']' : static_cast<char>(c);
    size_t j = i + 1;
    while (j < n) {
      if (s[j] == close) {
        if (close != ']' && j + 1 < n && s[j + 1] == close) {
          j += 2;
          continue;
        }
        ++j;
        break;
      }
      ++j;
    }
    *end = j > n ? n : j;
    return Tok::kQuotedIdent;
  }
  if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(static_cast<unsigned char>(s[i + 1])))) {
    size_t j = i;
    if (c == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      j = i + 2;
      while (j < n && (std::isxdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    } else {
      while (j < n && (IsDigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j < n && s[j] == '.') {
        ++j;
        while (j < n && (IsDigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      }
      if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < n && IsDigit(static_cast<unsigned char>(s[k]))) {
          j = k;
          while (j < n && IsDigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
    }
    // "123abc" is one (invalid) token for SQLite; swallow the tail too.
    while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
    *end = j;
    return Tok::kNumber;
  }
  if (IsIdentStart(c)) {
    size_t j = i + 1;
    while (j < n && IsIdentChar(static_cast<unsigned char>(s[j]))) ++j;
    *end = j;
    return Tok::kWord;
  }
  if (c == '?') {
    size_t j = i + 1;
    while (j < n && IsDigit(static_cast<unsigned char>(s[j]))) ++j;
    *end = j;
    return Tok::kParam;
  }
  if ((c == ':' || c == '@' || c == '$') && i + 1 < n &&
      IsIdentChar(static_cast<unsigned char>(s[i + 1]))) {
    size_t j = i + 1;
    while (j < n && (IsIdentChar(static_cast<unsigned char>(s[j])) || s[j] == ':')) ++j;
    *end = j;
    return Tok::kParam;
  }
  *end = i + 1;
  return Tok::kPunct;
}

struct Token {
  Tok kind;
  int depth;
  std::string_view text;
};

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

std::string Unquote(const Token& t) {
  if (t.kind != Tok::kQuotedIdent || t.text.size() < 2) return std::string(t.text);
  const char q = t.text.front();
  std::string_view inner = t.text.substr(1, t.text.size() - 2);
  std::string out;
  for (size_t i = 0; i < inner.size(); ++i) {
    out.push_back(inner[i]);
    if (q != '[' && inner[i] == q && i + 1 < inner.size() && inner[i + 1] == q) ++i;
  }
  return out;
}

bool IsKeyword(const Token& t, std::string_view kw) {
  return t.kind == Tok::kWord && EqualsNoCase(t.text, kw);
}

// Words that cannot be a table name where one is expected.
bool IsReservedAfterTable(const Token& t) {
  static constexpr std::string_view kWords[] = {
      "WHERE",   "GROUP",     "ORDER",     "LIMIT",   "HAVING", "WINDOW", "UNION",
      "EXCEPT",  "INTERSECT", "JOIN",      "INNER",   "LEFT",   "RIGHT",  "FULL",
      "CROSS",   "NATURAL",   "OUTER",     "ON",      "USING",  "SET",    "VALUES",
      "DEFAULT", "SELECT",    "RETURNING", "INDEXED", "NOT",    "AS"};
  if (t.kind != Tok::kWord) return false;
  for (std::string_view w : kWords) {
    if (EqualsNoCase(t.text, w)) return true;
  }
  return false;
}

bool IsName(const Token& t) {
  return t.kind == Tok::kQuotedIdent || (t.kind == Tok::kWord && !IsReservedAfterTable(t));
}

// Reads "name" or "schema.name" at toks[*i]; advances *i past it.
bool ReadTableName(const std::vector<Token>& toks, size_t* i, std::string* out) {
  if (*i >= toks.size() || !IsName(toks[*i])) return false;
  std::string name = Unquote(toks[*i]);
  ++*i;
  if (*i + 1 < toks.size() && toks[*i].kind == Tok::kPunct && toks[*i].text == "." &&
      IsName(toks[*i + 1])) {
    name += '.';
    name += Unquote(toks[*i + 1]);
    *i += 2;
  }
  *out = std::move(name);
  return true;
}

void SkipKeywords(const std::vector<Token>& toks, size_t* i,
                  std::initializer_list<std::string_view> kws) {
  bool progressed = true;
  while (progressed && *i < toks.size()) {
    progressed = false;
    for (std::string_view kw : kws) {
      if (IsKeyword(toks[*i], kw)) {
        ++*i;
        progressed = true;
        break;
      }
    }
  }
}

constexpr size_t kMaxTokens = 512;
constexpr size_t kMaxSummary = 255;  // db.query.summary's length limit

}  // namespace

namespace {

// After these, a double-quoted token is a value: SQLite (with its default
// DQS setting) reads "alice" in `name = "alice"` as a string literal when no
// column has that name, so the sanitizer treats it as one.
bool ValueFollows(Tok kind, std::string_view t) {
  if (kind == Tok::kPunct) {
    for (std::string_view op : {"=", "==", "!=", "<>", "<", ">", "<=", ">=", "||", "+", "-", "*", "/", "%"}) {
      if (t == op) return true;
    }
    return false;
  }
  if (kind != Tok::kWord) return false;
  for (std::string_view w : {"like", "glob", "regexp", "match", "is", "then", "else", "when", "between"}) {
    if (EqualsNoCase(t, w)) return true;
  }
  return false;
}

}  // namespace

void SanitizeSql(std::string_view sql, std::string* out) {
  out->reserve(out->size() + sql.size());
  size_t i = 0;
  Tok prev_kind = Tok::kEnd;
  std::string_view prev;
  int depth = 0;
  int list_depth = -1;  // inside VALUES (...) or IN (...): every token is a value
  bool list_opens = false;
  for (;;) {
    size_t end = 0;
    Tok k = Next(sql, i, &end);
    if (k == Tok::kEnd) break;
    std::string_view text = sql.substr(i, end - i);
    const bool dq = k == Tok::kQuotedIdent && !text.empty() && text[0] == '"';
    if (k == Tok::kString || k == Tok::kNumber || k == Tok::kBlob ||
        (dq && (ValueFollows(prev_kind, prev) || (list_depth >= 0 && depth >= list_depth)))) {
      out->push_back('?');
    } else {
      out->append(text);
    }
    if (k == Tok::kPunct && text == "(") {
      ++depth;
      if (list_opens && list_depth < 0) list_depth = depth;
    } else if (k == Tok::kPunct && text == ")") {
      if (depth == list_depth) list_depth = -1;
      depth = depth > 0 ? depth - 1 : 0;
    }
    if (k != Tok::kSpace && k != Tok::kComment) {
      list_opens = k == Tok::kWord && (EqualsNoCase(text, "values") || EqualsNoCase(text, "in"));
      prev_kind = k;
      prev = text;
    }
    i = end;
  }
}

SqlInfo AnalyzeSql(std::string_view sql) {
  SqlInfo info;
  thread_local std::vector<Token> toks;  // keeps its capacity: no allocation per statement
  toks.clear();
  int depth = 0;
  size_t pos = 0;
  while (toks.size() < kMaxTokens) {
    size_t end = 0;
    Tok k = Next(sql, pos, &end);
    if (k == Tok::kEnd) break;
    std::string_view text = sql.substr(pos, end - pos);
    pos = end;
    if (k == Tok::kSpace || k == Tok::kComment) continue;
    if (k == Tok::kPunct && text == ";" && depth == 0) break;
    if (k == Tok::kPunct && text == ")") depth = depth > 0 ? depth - 1 : 0;
    toks.push_back({k, depth, text});
    if (k == Tok::kPunct && text == "(") ++depth;
  }
  if (toks.empty() || toks[0].kind != Tok::kWord) return info;

  std::string& summary = info.summary;
  auto add = [&](std::string_view w) {
    if (summary.size() + 1 + w.size() > kMaxSummary) return;
    if (!summary.empty()) summary += ' ';
    summary += w;
  };
  auto is_punct = [&](size_t i, std::string_view p) {
    return i < toks.size() && toks[i].kind == Tok::kPunct && toks[i].text == p;
  };
  // A table name at toks[*i]: added. In a FROM clause, "name(" is a
  // table-valued function (json_each(...)), not a table.
  auto add_table = [&](size_t* i, bool in_from = false) {
    std::string name;
    size_t j = *i;
    if (!ReadTableName(toks, &j, &name)) return false;
    *i = j;
    if (in_from && is_punct(j, "(")) return false;
    add(name);
    return true;
  };

  const Token& first = toks[0];
  if (IsKeyword(first, "CREATE") || IsKeyword(first, "DROP") || IsKeyword(first, "ALTER")) {
    info.operation = std::string(first.text);
    add(first.text);
    size_t i = 1;
    SkipKeywords(toks, &i, {"TEMP", "TEMPORARY", "VIRTUAL", "UNIQUE"});
    if (i < toks.size() && toks[i].kind == Tok::kWord) {
      const Token& object = toks[i];
      add(object.text);
      ++i;
      SkipKeywords(toks, &i, {"IF", "NOT", "EXISTS"});
      if (IsKeyword(object, "TABLE") || IsKeyword(object, "VIEW")) {
        add_table(&i);
      } else if (IsKeyword(object, "INDEX")) {
        std::string index_name;
        ReadTableName(toks, &i, &index_name);
        if (i < toks.size() && IsKeyword(toks[i], "ON")) {
          ++i;
          add_table(&i);
        }
      }
    }
    return info;  // the rest (column definitions, a trigger's body) adds nothing
  }

  for (size_t i = 0; i < toks.size(); ++i) {
    const Token& t = toks[i];
    if (t.kind != Tok::kWord) continue;
    if (IsKeyword(t, "SELECT") || IsKeyword(t, "INSERT") || IsKeyword(t, "UPDATE") ||
        IsKeyword(t, "DELETE") || IsKeyword(t, "REPLACE")) {
      if (IsKeyword(t, "REPLACE") && is_punct(i + 1, "(")) continue;  // the replace() function
      if (info.operation.empty()) info.operation = std::string(t.text);
      add(t.text);
      size_t j = i + 1;
      if (j < toks.size() && IsKeyword(toks[j], "OR")) j += 2;  // INSERT OR IGNORE, UPDATE OR ABORT
      if (IsKeyword(t, "INSERT") || IsKeyword(t, "REPLACE")) {
        if (j < toks.size() && IsKeyword(toks[j], "INTO")) {
          ++j;
          add_table(&j);
        }
        i = j - 1;
      } else if (IsKeyword(t, "UPDATE")) {
        if (add_table(&j)) i = j - 1;
      }
      continue;
    }
    if ((IsKeyword(t, "FROM") || IsKeyword(t, "JOIN")) && !info.operation.empty()) {
      size_t j = i + 1;
      const int d = t.depth;
      while (add_table(&j, true)) {
        if (j < toks.size() && IsKeyword(toks[j], "AS")) ++j;
        if (j < toks.size() && toks[j].depth == d && IsName(toks[j])) ++j;  // alias
        if (!(is_punct(j, ",") && toks[j].depth == d)) break;
        ++j;
      }
      i = j - 1;
      continue;
    }
  }
  if (info.operation.empty() && first.text.size() <= kMaxSummary) {  // PRAGMA, BEGIN, VACUUM, ...
    info.operation = std::string(first.text);
    summary = std::string(first.text);
  }
  return info;
}

std::string SqliteCodeName(int code) {
  struct Named {
    int code;
    const char* name;
  };
  static constexpr Named kExtended[] = {
      {261, "SQLITE_BUSY_RECOVERY"},
      {517, "SQLITE_BUSY_SNAPSHOT"},
      {773, "SQLITE_BUSY_TIMEOUT"},
      {262, "SQLITE_LOCKED_SHAREDCACHE"},
      {518, "SQLITE_LOCKED_VTAB"},
      {275, "SQLITE_CONSTRAINT_CHECK"},
      {531, "SQLITE_CONSTRAINT_COMMITHOOK"},
      {787, "SQLITE_CONSTRAINT_FOREIGNKEY"},
      {1043, "SQLITE_CONSTRAINT_FUNCTION"},
      {1299, "SQLITE_CONSTRAINT_NOTNULL"},
      {1555, "SQLITE_CONSTRAINT_PRIMARYKEY"},
      {1811, "SQLITE_CONSTRAINT_TRIGGER"},
      {2067, "SQLITE_CONSTRAINT_UNIQUE"},
      {2323, "SQLITE_CONSTRAINT_VTAB"},
      {2579, "SQLITE_CONSTRAINT_ROWID"},
      {2835, "SQLITE_CONSTRAINT_PINNED"},
      {3091, "SQLITE_CONSTRAINT_DATATYPE"},
      {264, "SQLITE_READONLY_RECOVERY"},
      {520, "SQLITE_READONLY_CANTLOCK"},
      {776, "SQLITE_READONLY_ROLLBACK"},
      {1032, "SQLITE_READONLY_DBMOVED"},
      {513, "SQLITE_ERROR_RETRY"},
      {257, "SQLITE_ERROR_MISSING_COLLSEQ"},
      {1038, "SQLITE_CANTOPEN_CONVPATH"},
  };
  static constexpr const char* kPrimary[] = {
      "SQLITE_OK",       "SQLITE_ERROR",     "SQLITE_INTERNAL", "SQLITE_PERM",
      "SQLITE_ABORT",    "SQLITE_BUSY",      "SQLITE_LOCKED",   "SQLITE_NOMEM",
      "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR",    "SQLITE_CORRUPT",
      "SQLITE_NOTFOUND", "SQLITE_FULL",      "SQLITE_CANTOPEN", "SQLITE_PROTOCOL",
      "SQLITE_EMPTY",    "SQLITE_SCHEMA",    "SQLITE_TOOBIG",   "SQLITE_CONSTRAINT",
      "SQLITE_MISMATCH", "SQLITE_MISUSE",    "SQLITE_NOLFS",    "SQLITE_AUTH",
      "SQLITE_FORMAT",   "SQLITE_RANGE",     "SQLITE_NOTADB",   "SQLITE_NOTICE",
      "SQLITE_WARNING"};
  for (const Named& n : kExtended) {
    if (n.code == code) return n.name;
  }
  const int primary = code & 0xff;
  if (code >= 0 && primary < static_cast<int>(std::size(kPrimary))) return kPrimary[primary];
  return "SQLITE_" + std::to_string(code);
}

}  // namespace otelweb::sqlite::internal
