// seed_trace_view: joins the OTLP/JSON span lines written by several services
// (SEED_SPANS_FILE, one ExportTraceServiceRequest per line) and prints one
// tree per trace, across services.
//
//   seed_trace_view FILE...           print the trees
//   seed_trace_view --check FILE...   also verify what the seed demo must show (the
//                                     cross-service call, its failure path, SQL, user.id)
//                                     (exit 1 with the reasons if not)
//   --expect SERVICE=N                with --check: exactly N SERVER spans from SERVICE
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---- a small JSON reader (enough for OTLP/JSON) ----
struct Json {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  std::string str;  // string value, or the number's text, or "true"/"false"
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* Get(std::string_view key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  std::string Str(std::string_view key) const {
    const Json* v = Get(key);
    return v != nullptr ? v->str : std::string();
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  bool Parse(Json* out) {
    if (!Value(out)) return false;
    Ws();
    return i_ == s_.size();
  }

 private:
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool Lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool String(std::string* out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case 'n':
          out->push_back('\n');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          unsigned cp = std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16);
          i_ += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u" && i_ + 6 <= s_.size()) {
            unsigned lo = std::stoul(std::string(s_.substr(i_ + 2, 4)), nullptr, 16);
            i_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          if (cp < 0x80) {
            out->push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else if (cp < 0x10000) {
            out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          out->push_back(e);
      }
    }
    return false;
  }
  bool Value(Json* out) {
    if (++depth_ > 64) return false;
    Ws();
    bool ok = false;
    if (i_ >= s_.size()) {
      ok = false;
    } else if (s_[i_] == '{') {
      out->type = Json::kObject;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        ok = true;
      } else {
        for (;;) {
          Ws();
          std::string key;
          Json v;
          if (!String(&key)) break;
          Ws();
          if (i_ >= s_.size() || s_[i_++] != ':') break;
          if (!Value(&v)) break;
          out->members.emplace_back(std::move(key), std::move(v));
          Ws();
          if (i_ < s_.size() && s_[i_] == ',') {
            ++i_;
            continue;
          }
          if (i_ < s_.size() && s_[i_] == '}') {
            ++i_;
            ok = true;
          }
          break;
        }
      }
    } else if (s_[i_] == '[') {
      out->type = Json::kArray;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        ok = true;
      } else {
        for (;;) {
          Json v;
          if (!Value(&v)) break;
          out->items.push_back(std::move(v));
          Ws();
          if (i_ < s_.size() && s_[i_] == ',') {
            ++i_;
            continue;
          }
          if (i_ < s_.size() && s_[i_] == ']') {
            ++i_;
            ok = true;
          }
          break;
        }
      }
    } else if (s_[i_] == '"') {
      out->type = Json::kString;
      ok = String(&out->str);
    } else if (Lit("true") || Lit("false")) {
      out->type = Json::kBool;
      out->str = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u' ? "true" : "false";
      ok = true;
    } else if (Lit("null")) {
      ok = true;
    } else {
      size_t start = i_;
      while (i_ < s_.size() &&
             std::string_view("+-0123456789.eE").find(s_[i_]) != std::string_view::npos)
        ++i_;
      out->type = Json::kNumber;
      out->str = std::string(s_.substr(start, i_ - start));
      ok = i_ > start;
    }
    --depth_;
    return ok;
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

// ---- spans ----
struct SpanRec {
  std::string service, trace_id, span_id, parent_id, name;
  int kind = 0;
  int status = 0;
  std::string status_message;
  uint64_t start = 0, end = 0;
  std::map<std::string, std::string> attrs;  // values rendered as text
  std::vector<const SpanRec*> children;
  std::string Attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? std::string() : it->second;
  }
};

std::string AttrText(const Json& value) {
  for (const auto& [k, v] : value.members) {
    if (k == "arrayValue") {
      std::string out = "[";
      if (const Json* vals = v.Get("values")) {
        for (size_t i = 0; i < vals->items.size(); ++i) {
          if (i != 0) out += ",";
          out += AttrText(vals->items[i]);
        }
      }
      return out + "]";
    }
    return v.str;
  }
  return {};
}

std::map<std::string, std::string> Attrs(const Json* list) {
  std::map<std::string, std::string> out;
  if (list == nullptr) return out;
  for (const Json& kv : list->items) {
    const Json* v = kv.Get("value");
    out[kv.Str("key")] = v != nullptr ? AttrText(*v) : "";
  }
  return out;
}

bool Load(const char* path, std::vector<std::unique_ptr<SpanRec>>* spans) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "seed_trace_view: cannot read %s\n", path);
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    Json doc;
    if (!Parser(line).Parse(&doc)) {
      std::fprintf(stderr, "seed_trace_view: %s:%d is not JSON\n", path, lineno);
      return false;
    }
    const Json* rss = doc.Get("resourceSpans");
    if (rss == nullptr) continue;
    for (const Json& rs : rss->items) {
      std::string service = "?";
      if (const Json* res = rs.Get("resource"))
        service = Attrs(res->Get("attributes"))["service.name"];
      const Json* sss = rs.Get("scopeSpans");
      if (sss == nullptr) continue;
      for (const Json& ss : sss->items) {
        const Json* list = ss.Get("spans");
        if (list == nullptr) continue;
        for (const Json& s : list->items) {
          auto r = std::make_unique<SpanRec>();
          r->service = service;
          r->trace_id = s.Str("traceId");
          r->span_id = s.Str("spanId");
          r->parent_id = s.Str("parentSpanId");
          r->name = s.Str("name");
          r->kind = std::atoi(s.Str("kind").c_str());
          r->start = std::strtoull(s.Str("startTimeUnixNano").c_str(), nullptr, 10);
          r->end = std::strtoull(s.Str("endTimeUnixNano").c_str(), nullptr, 10);
          r->attrs = Attrs(s.Get("attributes"));
          if (const Json* st = s.Get("status")) {
            r->status = std::atoi(st->Str("code").c_str());
            r->status_message = st->Str("message");
          }
          spans->push_back(std::move(r));
        }
      }
    }
  }
  return true;
}

const char* KindName(int k) {
  static const char* kNames[] = {"UNSPECIFIED", "INTERNAL", "SERVER",
                                 "CLIENT",      "PRODUCER", "CONSUMER"};
  return k >= 0 && k <= 5 ? kNames[k] : "?";
}

std::string Duration(uint64_t ns) {
  char buf[32];
  if (ns >= 1000000000) {
    std::snprintf(buf, sizeof(buf), "%.3fs", ns / 1e9);
  } else if (ns >= 1000000) {
    std::snprintf(buf, sizeof(buf), "%.2fms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fus", ns / 1e3);
  }
  return buf;
}

void Print(const SpanRec* s, const std::string& prefix, bool last, bool root) {
  std::string line = root ? "" : prefix + (last ? "`- " : "|- ");
  line +=
      s->name + "  [" + s->service + "] " + KindName(s->kind) + " " + Duration(s->end - s->start);
  if (s->status == 2)
    line += " ERROR" + (s->status_message.empty() ? "" : " (" + s->status_message + ")");
  for (const char* key :
       {"http.response.status_code", "user.id", "db.query.text", "error.type", "items.count"}) {
    auto it = s->attrs.find(key);
    if (it != s->attrs.end()) line += std::string(" ") + key + "=" + it->second;
  }
  std::printf("%s\n", line.c_str());
  std::string next = root ? "" : prefix + (last ? "   " : "|  ");
  for (size_t i = 0; i < s->children.size(); ++i) {
    Print(s->children[i], next, i + 1 == s->children.size(), false);
  }
}

const SpanRec* Child(const SpanRec* s, int kind, std::string_view name_prefix,
                     std::string_view service = {}) {
  for (const SpanRec* c : s->children) {
    if (c->kind == kind && std::string_view(c->name).starts_with(name_prefix) &&
        (service.empty() || c->service == service)) {
      return c;
    }
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  std::map<std::string, int> expected_server_spans;  // --expect SERVICE=N (with --check)
  std::vector<std::unique_ptr<SpanRec>> spans;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (arg == "--check") {
      check = true;
    } else if (arg == "--expect" && i + 1 < argc) {
      std::string_view e(argv[++i]);
      size_t eq = e.find('=');
      if (eq == std::string_view::npos) {
        std::fprintf(stderr, "seed_trace_view: --expect SERVICE=N\n");
        return 2;
      }
      expected_server_spans[std::string(e.substr(0, eq))] =
          std::atoi(std::string(e.substr(eq + 1)).c_str());
    } else if (!Load(argv[i], &spans)) {
      return 2;
    }
  }
  std::map<std::string, SpanRec*> by_id;
  for (auto& s : spans) by_id[s->trace_id + "/" + s->span_id] = s.get();
  std::map<std::string, std::vector<SpanRec*>> roots;  // by trace id
  for (auto& s : spans) {
    auto parent = by_id.find(s->trace_id + "/" + s->parent_id);
    if (!s->parent_id.empty() && parent != by_id.end()) {
      parent->second->children.push_back(s.get());
    } else {
      roots[s->trace_id].push_back(s.get());
    }
  }
  auto by_start = [](const SpanRec* a, const SpanRec* b) { return a->start < b->start; };
  for (auto& s : spans) std::sort(s->children.begin(), s->children.end(), by_start);
  std::vector<std::pair<uint64_t, std::string>> order;
  for (auto& [trace, list] : roots) {
    std::sort(list.begin(), list.end(), by_start);
    order.emplace_back(list.front()->start, trace);
  }
  std::sort(order.begin(), order.end());
  std::map<std::string, std::set<std::string>> services;
  for (auto& s : spans) services[s->trace_id].insert(s->service);
  for (const auto& [start, trace] : order) {
    std::string names;
    for (const std::string& n : services[trace]) names += (names.empty() ? "" : ", ") + n;
    size_t count = 0;
    for (auto& s : spans) count += s->trace_id == trace;
    std::printf("trace %s  (%zu spans; %s)\n", trace.c_str(), count, names.c_str());
    for (const SpanRec* r : roots[trace]) Print(r, "", true, true);
    std::printf("\n");
  }
  if (!check) return 0;

  // What the seed demo must show.
  std::vector<std::string> failures;
  bool fetch_ok = false, items_ok = false, hello_ok = false, fetch_error_ok = false;
  for (const auto& [trace, list] : roots) {
    for (const SpanRec* r : list) {
      if (r->kind != 2 || r->service != "seed-app") continue;
      if (r->attrs.count("user.id") == 0) failures.push_back("no user.id on " + r->name);
      if (r->name == "GET /" && r->Attr("http.response.status_code") == "200") hello_ok = true;
      if (r->name == "GET /fetch-external" && r->Attr("http.response.status_code") == "200") {
        const SpanRec* client = Child(r, 3, "GET");
        const SpanRec* remote = client ? Child(client, 2, "GET /delay/", "seed-backend") : nullptr;
        if (remote != nullptr && services[trace].size() == 2 && remote->trace_id == r->trace_id &&
            client->trace_id == r->trace_id) {
          fetch_ok = true;
        }
      }
      if (r->name == "GET /fetch-external" && r->Attr("http.response.status_code") == "500" &&
          r->status == 2) {
        const SpanRec* client = Child(r, 3, "GET");
        if (client != nullptr && client->status == 2 && !client->Attr("error.type").empty()) {
          fetch_error_ok = true;
        }
      }
      if (r->name == "GET /items" && r->Attr("http.response.status_code") == "200") {
        const SpanRec* select = Child(r, 3, "SELECT items");
        const SpanRec* work = Child(r, 1, "serialize items");
        if (select != nullptr && select->Attr("db.system.name") == "sqlite" && work != nullptr)
          items_ok = true;
      }
    }
  }
  if (!hello_ok) failures.push_back("no trace with a SERVER span GET / answering 200");
  if (!fetch_ok) {
    failures.push_back(
        "no trace GET /fetch-external (seed-app SERVER) -> CLIENT -> GET /delay/<s> (seed-backend "
        "SERVER) "
        "with one trace id and two services");
  }
  if (!fetch_error_ok) {
    failures.push_back(
        "no failed GET /fetch-external (500, ERROR) with an ERROR client span and error.type");
  }
  if (!items_ok)
    failures.push_back("no trace GET /items -> SELECT items (sqlite) and serialize items");
  for (const auto& [service, n] : expected_server_spans) {  // nothing lost on shutdown
    int got = 0;
    for (auto& sp : spans) got += sp->service == service && sp->kind == 2;
    if (got != n) {
      failures.push_back(service + ": " + std::to_string(got) + " SERVER spans, expected " +
                         std::to_string(n));
    }
  }
  for (const std::string& f : failures) std::printf("CHECK FAILED: %s\n", f.c_str());
  if (!failures.empty()) return 1;
  std::printf(
      "CHECK OK: GET /fetch-external -> CLIENT GET -> seed-backend GET /delay/:seconds in one "
      "trace; "
      "GET /items -> SELECT items; the timed-out call is ERROR on both spans; user.id on every "
      "request span\n");
  return 0;
}
