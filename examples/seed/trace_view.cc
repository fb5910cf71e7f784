// seed_trace_view: joins the OTLP/JSON span lines written by several services
// (SEED_SPANS_FILE, one ExportTraceServiceRequest per line, read with
// nlohmann-json) and prints one tree per trace, across services.
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

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

// A scalar as text: strings as they are, numbers and booleans as JSON writes
// them (OTLP/JSON carries 64-bit integers as strings, other numbers bare);
// null, objects and arrays as "".
std::string Text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return {};
}

// The member `key` of an object as text ("" when absent).
std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it == obj.end() ? std::string() : Text(*it);
}

// The member `key` of an object if it is an array, else an empty array.
const json& List(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_array() ? *it : kEmpty;
}

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

// An AnyValue ({"stringValue": ...}, {"intValue": ...}, {"arrayValue":
// {"values": [...]}}, ...) as text; arrays as [a,b].
std::string AttrText(const json& value) {
  if (!value.is_object() || value.empty()) return {};
  auto arr = value.find("arrayValue");
  if (arr != value.end()) {
    std::string out = "[";
    const json& vals = List(*arr, "values");
    for (size_t i = 0; i < vals.size(); ++i) {
      if (i != 0) out += ",";
      out += AttrText(vals[i]);
    }
    return out + "]";
  }
  return Text(value.begin().value());
}

std::map<std::string, std::string> Attrs(const json& list) {
  std::map<std::string, std::string> out;
  if (!list.is_array()) return out;
  for (const json& kv : list) {
    auto v = kv.is_object() ? kv.find("value") : kv.end();
    out[Str(kv, "key")] = v != kv.end() ? AttrText(*v) : "";
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
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::fprintf(stderr, "seed_trace_view: %s:%d is not JSON\n", path, lineno);
      return false;
    }
    for (const json& rs : List(doc, "resourceSpans")) {
      std::string service = "?";
      if (rs.contains("resource")) service = Attrs(List(rs["resource"], "attributes"))["service.name"];
      for (const json& ss : List(rs, "scopeSpans")) {
        for (const json& s : List(ss, "spans")) {
          auto r = std::make_unique<SpanRec>();
          r->service = service;
          r->trace_id = Str(s, "traceId");
          r->span_id = Str(s, "spanId");
          r->parent_id = Str(s, "parentSpanId");
          r->name = Str(s, "name");
          r->kind = std::atoi(Str(s, "kind").c_str());
          r->start = std::strtoull(Str(s, "startTimeUnixNano").c_str(), nullptr, 10);
          r->end = std::strtoull(Str(s, "endTimeUnixNano").c_str(), nullptr, 10);
          r->attrs = Attrs(s.is_object() && s.contains("attributes") ? s["attributes"] : json());
          if (s.is_object() && s.contains("status")) {
            const json& st = s["status"];
            r->status = std::atoi(Str(st, "code").c_str());
            r->status_message = Str(st, "message");
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
