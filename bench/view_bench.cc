// otelweb-view's figures (docs/performance.md "otelweb-view"):
//
//   otelweb_view_bench ingest [--spans N] [--db]   spans/s over OTLP/HTTP protobuf from this process
//                                                    (OTELWEB_VIEW_BENCH_BIN=<otelweb-view> to run another build)
//                                                    into the real otelweb-view program (a child
//                                                    process), counted when committed and queryable
//                                                    (/api/stats)
//   otelweb_view_bench filters [--spans N]          trace-list latency over N stored spans (default
//                                                    1 000 000): each filter and combinations, via
//                                                    the JSON API on 127.0.0.1
//   otelweb_view_bench trace [--spans N]            GET /api/traces/<id> of one N-span trace (default
//                                                    10 000): a 10-ary tree and a chain (depth N)
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "view/server.h"
#include "view/store.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace tsvc = ::opentelemetry::proto::collector::trace::v1;
namespace tpb = ::opentelemetry::proto::trace::v1;

const char* kServices[] = {"frontend", "cart", "checkout", "payment", "shipping",
                           "email", "ads", "recommend", "currency", "rare-svc"};

void AddAttr(tpb::Span* s, const std::string& k, const std::string& v) {
  auto* a = s->add_attributes();
  a->set_key(k);
  a->mutable_value()->set_string_value(v);
}
void AddInt(tpb::Span* s, const std::string& k, int64_t v) {
  auto* a = s->add_attributes();
  a->set_key(k);
  a->mutable_value()->set_int_value(v);
}

// `traces` traces of 4 spans (SERVER root, INTERNAL, CLIENT, SERVER in a
// second service), ids from `first`, starts spread over one day.
tsvc::ExportTraceServiceRequest MakeTraces(uint64_t first, int traces, std::mt19937_64& rng) {
  tsvc::ExportTraceServiceRequest req;
  tpb::ScopeSpans* by_service[10] = {};  // one resource per service, as exporters batch
  const uint64_t t0 = 1700000000000000000ull;
  for (int i = 0; i < traces; ++i) {
    uint64_t n = first + uint64_t(i);
    int svc = int(rng() % 9), svc2 = int(rng() % 9);
    if (n % 1000 == 7) svc2 = 9;  // a rare service: 0.1 % of traces
    int route = int(rng() % 50);
    bool error = rng() % 100 == 0;
    uint64_t start = t0 + (n * 345678901ull) % 86400000000000ull;
    uint64_t dur = 100000 + rng() % 200000000;
    char tid[16];
    std::memcpy(tid, &n, 8);
    std::memcpy(tid + 8, "viewbnch", 8);
    auto add = [&](int service, const std::string& name, int kind, uint64_t s, uint64_t d, int idx, int parent) {
      tpb::ScopeSpans*& ss = by_service[service];
      if (!ss) {
        auto* rs = req.add_resource_spans();
        auto* kv = rs->mutable_resource()->add_attributes();
        kv->set_key("service.name");
        kv->mutable_value()->set_string_value(kServices[service]);
        ss = rs->add_scope_spans();
        ss->mutable_scope()->set_name("otelweb");
        ss->mutable_scope()->set_version("0.1.0");
      }
      auto* sp = ss->add_spans();
      sp->set_trace_id(std::string(tid, 16));
      uint64_t sid = n * 8 + uint64_t(idx) + 1;
      sp->set_span_id(std::string(reinterpret_cast<const char*>(&sid), 8));
      if (parent >= 0) {
        uint64_t pid = n * 8 + uint64_t(parent) + 1;
        sp->set_parent_span_id(std::string(reinterpret_cast<const char*>(&pid), 8));
      }
      sp->set_name(name);
      sp->set_kind(tpb::Span::SpanKind(kind));
      sp->set_start_time_unix_nano(s);
      sp->set_end_time_unix_nano(s + d);
      return sp;
    };
    std::string r = "/api/route" + std::to_string(route) + "/{id}";
    auto* root = add(svc, "GET " + r, 2, start, dur, 0, -1);
    AddAttr(root, "http.request.method", "GET");
    AddAttr(root, "http.route", r);
    AddAttr(root, "url.path", "/api/route" + std::to_string(route) + "/" + std::to_string(n % 977));
    AddInt(root, "http.response.status_code", error ? 500 : 200);
    AddAttr(root, "region", n % 5 == 0 ? "eu" : "us");
    AddAttr(root, "user.id", std::to_string(n % 10000));
    if (error) root->mutable_status()->set_code(tpb::Status::STATUS_CODE_ERROR);
    auto* in = add(svc, "handle", 1, start + 1000, dur / 2, 1, 0);
    AddAttr(in, "code.function", "Handle");
    auto* cl = add(svc, "GET", 3, start + 2000, dur / 3, 2, 1);
    AddAttr(cl, "http.request.method", "GET");
    AddAttr(cl, "server.address", "127.0.0.1");
    AddInt(cl, "server.port", 8080);
    auto* sv = add(svc2, "GET /backend", 2, start + 3000, dur / 4, 3, 2);
    AddAttr(sv, "http.route", "/backend");
    AddInt(sv, "http.response.status_code", 200);
  }
  return req;
}

int Ingest(int64_t spans, bool db) {
  std::string bin = OTELWEB_VIEW_BIN;
  if (const char* other = std::getenv("OTELWEB_VIEW_BENCH_BIN")) bin = other;  // e.g. an older build, to compare
  auto dir = std::filesystem::temp_directory_path() / ("otelweb-view-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {bin, "--ui-port", "0", "--grpc-port", "0", "--http-port", "0",
                                   "--max-db-mb", "4096"};
  if (db) {
    args.push_back("--db");
    args.push_back((dir / "bench.db").string());
  }
  int out[2];
  if (pipe(out) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[512] = {0};
  if (!fgets(line, sizeof line, f)) return 1;
  std::cmatch m;
  std::regex re(R"(ui=http://127\.0\.0\.1:(\d+) grpc=\S+ http=127\.0\.0\.1:(\d+))");
  if (!std::regex_search(line, m, re)) return 1;
  int ui = std::stoi(m[1]), http = std::stoi(m[2]);

  const int per_request = 128;  // traces: 512 spans per request
  int64_t requests = spans / (per_request * 4);
  std::vector<std::string> bodies;
  std::mt19937_64 rng(42);
  for (int64_t i = 0; i < requests; ++i) {
    bodies.push_back(MakeTraces(uint64_t(i) * per_request, per_request, rng).SerializeAsString());
  }
  spans = requests * per_request * 4;
  std::atomic<int64_t> next{0}, retried{0};
  const int senders = 2;
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", http);
      c.set_keep_alive(true);
      for (int64_t i; (i = next.fetch_add(1)) < requests;) {
        for (;;) {
          auto r = c.Post("/v1/traces", bodies[size_t(i)], "application/x-protobuf");
          if (r && r->status == 200) break;
          ++retried;  // 503: the store is behind; retry as asked (shortened here)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto sent = Clock::now();
  httplib::Client api("127.0.0.1", ui);
  int64_t stored = 0;
  while (stored < spans) {
    auto r = api.Get("/api/stats");
    if (r) stored = nlohmann::json::parse(r->body)["spans"].get<int64_t>();
    if (stored < spans) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto done = Clock::now();
  double secs = std::chrono::duration<double>(done - t0).count();
  std::printf("ingest (%s): %lld spans in %zu requests of %d spans, %d sender threads: sent in %.2f s, "
              "stored and queryable after %.2f s: %.0f spans/s (%lld requests retried after 503)\n",
              db ? "--db file" : "in memory", (long long)spans, bodies.size(), per_request * 4, senders,
              std::chrono::duration<double>(sent - t0).count(), secs, double(spans) / secs,
              (long long)retried.load());
  // CPU time of otelweb-view (user + system): the rate per CPU-second does
  // not depend on what else the machine runs.
  double cpu = 0;
  if (FILE* st = fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r")) {
    char buf[2048] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, st);
    fclose(st);
    std::string s(buf, n);
    size_t p = s.rfind(')');
    std::vector<std::string> fields;
    for (size_t i = p + 2; i < s.size();) {
      size_t e = s.find(' ', i);
      fields.push_back(s.substr(i, e - i));
      if (e == std::string::npos) break;
      i = e + 1;
    }
    if (fields.size() > 13) cpu = double(std::stoll(fields[11]) + std::stoll(fields[12])) / double(sysconf(_SC_CLK_TCK));
  }
  std::printf("otelweb-view used %.2f CPU-seconds: %.0f spans per CPU-second\n", cpu, cpu > 0 ? double(spans) / cpu : 0.0);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
  return 0;
}

int Filters(int64_t spans) {
  otelweb::view::StoreOptions so;
  so.max_bytes = int64_t(8) << 30;
  std::string error;
  auto store = otelweb::view::Store::Open(so, &error);
  if (!store) return 1;
  std::mt19937_64 rng(7);
  std::vector<tsvc::ExportTraceServiceRequest> reqs;
  const int per = 250;
  for (int64_t n = 0; n < spans / 4; n += per) reqs.push_back(MakeTraces(uint64_t(n), per, rng));
  auto cpu0 = std::clock();
  auto t0 = Clock::now();
  for (const auto& req : reqs) {
    while (store->AddTraces(req) == otelweb::view::Admit::kQueueFull) store->Flush(std::chrono::seconds(5));
  }
  store->Flush(std::chrono::seconds(600));
  auto st = store->Stats();
  double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::printf("filled %lld spans (%lld traces) in %.1f s in process (%.1f CPU-seconds: %.0f spans per CPU-second); "
              "%lld MiB of pages\n",
              (long long)st.spans, (long long)st.traces, std::chrono::duration<double>(Clock::now() - t0).count(),
              cpu, double(st.spans) / cpu, (long long)(st.db_bytes >> 20));
  reqs.clear();
  otelweb::view::ServerOptions o;
  o.ui_port = o.grpc_port = o.http_port = 0;
  auto server = otelweb::view::ViewServer::Start(store.get(), o, &error);
  if (!server) return 1;
  httplib::Client c("127.0.0.1", server->ui_port());
  c.set_keep_alive(true);
  const char* queries[] = {
      "",
      "?service=cart",
      "?service=rare-svc",
      "?name=GET%20%2Fapi%2Froute7%2F%7Bid%7D",
      "?name=%2Fapi%2Froute7%2F%7Bid%7D",
      "?name=no-such-name",
      "?error=1",
      "?minDuration=150000000",
      "?maxDuration=1000000",
      "?start=1700000040000000000&end=1700000041000000000",
      "?attr=region%3Deu",
      "?attr=user.id%3D1234",
      "?sort=duration",
      "?service=cart&error=1",
      "?service=rare-svc&error=1",
      "?service=cart&name=%2Fapi%2Froute7%2F%7Bid%7D&minDuration=100000000",
      "?attr=region%3Deu&service=checkout&sort=duration",
      "?error=1&start=1700000040000000000&end=1700000050000000000",
      "?service=payment&name=%2Fbackend&error=1&minDuration=1000000&maxDuration=150000000&attr=region%3Dus"
      "&sort=duration",
      "?offset=5000&limit=100",
  };
  std::printf("%-110s %9s %9s %8s\n", "GET /api/traces", "median", "max", "total");
  for (const char* q : queries) {
    std::vector<double> ms;
    int64_t total = 0;
    for (int i = 0; i < 5; ++i) {
      auto a = Clock::now();
      auto r = c.Get((std::string("/api/traces") + q).c_str());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      if (!r || r->status != 200) return 1;
      total = nlohmann::json::parse(r->body)["total"].get<int64_t>();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-110s %7.1fms %7.1fms %8lld\n", *q ? q : "(no filter)", ms[2], ms[4], (long long)total);
  }
  return 0;
}

// One trace of `n` spans: a 10-ary tree (as bench/view_page_bench.mjs sends),
// or a chain where each span is the parent of the next; 3 services.
tsvc::ExportTraceServiceRequest BigTrace(int n, bool chain, const std::string& trace_id) {
  tsvc::ExportTraceServiceRequest req;
  tpb::ScopeSpans* by_service[3] = {};
  const uint64_t t0 = 1700000000000000000ull;
  for (int k = 0; k < n; ++k) {
    int svc = k % 3;
    if (!by_service[svc]) {
      auto* rs = req.add_resource_spans();
      auto* a = rs->mutable_resource()->add_attributes();
      a->set_key("service.name");
      a->mutable_value()->set_string_value(std::string("svc-") + char('a' + svc));
      for (int i = 0; i < 8; ++i) {
        auto* ra = rs->mutable_resource()->add_attributes();
        ra->set_key("resource.attr." + std::to_string(i));
        ra->mutable_value()->set_string_value("value of a resource attribute");
      }
      by_service[svc] = rs->add_scope_spans();
      by_service[svc]->mutable_scope()->set_name("bench");
    }
    tpb::Span* s = by_service[svc]->add_spans();
    s->set_trace_id(trace_id);
    char id[8];
    for (int b = 0; b < 8; ++b) id[b] = char(((uint64_t(k) + 1) >> (8 * (7 - b))) & 0xff);
    s->set_span_id(std::string(id, 8));
    int parent = k == 0 ? -1 : chain ? k - 1 : (k - 1) / 10;
    if (parent >= 0) {
      for (int b = 0; b < 8; ++b) id[b] = char(((uint64_t(parent) + 1) >> (8 * (7 - b))) & 0xff);
      s->set_parent_span_id(std::string(id, 8));
    }
    s->set_name(k == 0 ? "POST /batch" : "step " + std::to_string(k % 50));
    s->set_kind(k == 0 ? tpb::Span::SPAN_KIND_SERVER : tpb::Span::SPAN_KIND_INTERNAL);
    s->set_start_time_unix_nano(t0 + uint64_t(k) * 1000);
    s->set_end_time_unix_nano(t0 + uint64_t(k) * 1000 + 500000);
    AddAttr(s, "code.function", "handler_" + std::to_string(k % 20));
    AddInt(s, "item.index", k);
    AddAttr(s, "db.statement", "SELECT * FROM items WHERE id = ?");
    if (k % 100 == 0) {
      auto* e = s->add_events();
      e->set_name("checkpoint");
      e->set_time_unix_nano(t0 + uint64_t(k) * 1000 + 100);
    }
  }
  return req;
}

int Trace(int n) {
  otelweb::view::StoreOptions so;
  std::string error;
  auto store = otelweb::view::Store::Open(so, &error);
  if (!store) return 1;
  std::string tree_id(16, '\x11'), chain_id(16, '\x22');
  store->AddTraces(BigTrace(n, false, tree_id));
  store->AddTraces(BigTrace(n, true, chain_id));
  store->Flush(std::chrono::seconds(120));
  otelweb::view::ServerOptions o;
  o.ui_port = o.grpc_port = o.http_port = 0;
  auto server = otelweb::view::ViewServer::Start(store.get(), o, &error);
  if (!server) return 1;
  httplib::Client c("127.0.0.1", server->ui_port());
  c.set_keep_alive(true);
  c.set_read_timeout(std::chrono::seconds(120));
  std::printf("GET /api/traces/<id>, %d spans: median (max) of 5, wall and this process's CPU\n", n);
  for (auto [label, hex] : {std::pair{"10-ary tree", std::string(32, '1')}, std::pair{"chain", std::string(32, '2')}}) {
    std::vector<double> ms, cpu;
    size_t bytes = 0;
    for (int i = 0; i < 5; ++i) {
      auto c0 = std::clock();
      auto a = Clock::now();
      auto r = c.Get(("/api/traces/" + hex).c_str());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      cpu.push_back(double(std::clock() - c0) * 1000.0 / CLOCKS_PER_SEC);
      if (!r || r->status != 200) {
        std::fprintf(stderr, "GET /api/traces/%s failed\n", hex.c_str());
        return 1;
      }
      bytes = r->body.size();
      if (nlohmann::json::parse(r->body)["spans"].size() != size_t(n)) {
        std::fprintf(stderr, "the trace does not have %d spans\n", n);
        return 1;
      }
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("%-12s %8.1f ms (%.1f) wall, %8.1f ms CPU (server and client threads), %zu bytes\n", label,
                ms[2], ms[4], cpu[2], bytes);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  int64_t spans = mode == "ingest" ? 400000 : 1000000;
  bool db = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--spans" && i + 1 < argc) spans = std::stoll(argv[++i]);
    if (a == "--db") db = true;
  }
  if (mode == "ingest") return Ingest(spans, db);
  if (mode == "filters") return Filters(spans);
  if (mode == "trace") return Trace(argc > 2 && std::string(argv[2]) == "--spans" ? int(spans) : 10000);
  std::fprintf(stderr, "usage: otelweb_view_bench ingest [--spans N] [--db] | filters [--spans N] | trace [--spans N]\n");
  return 2;
}
