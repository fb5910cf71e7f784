// otelweb-view in process: every OTLP transport fed by otelweb's own
// exporters, invalid input with its status, size limits and gzip bombs,
// back-pressure, pruning at the cap, every filter of the JSON API, export and
// load, the page's files. Real sockets on 127.0.0.1 ephemeral ports, real SQLite.
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>
#include <zlib.h>

#include <filesystem>

#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otelweb/otelweb.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/otlp/file_exporter.h"
#include "view/ui_assets.h"
#include "view/view_test_util.h"

namespace otelweb::view {
namespace {

using namespace testing;
namespace tsvc = ::opentelemetry::proto::collector::trace::v1;
namespace lsvc = ::opentelemetry::proto::collector::logs::v1;
namespace msvc = ::opentelemetry::proto::collector::metrics::v1;

std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, uLong(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::unique_ptr<TracerProvider> ProviderTo(otlp::OtlpExporterOptions o, const std::string& service) {
  TracerProviderOptions po;
  po.sampler = AlwaysOnSampler();
  po.resource = Resource(std::vector<OwnedKeyValue>{{"service.name", OwnedValue(AttributeValue(service))}});
  po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<otlp::OtlpSpanExporter>(o)));
  return std::make_unique<TracerProvider>(std::move(po));
}

// Makes GET /items (SERVER, http.route) -> SELECT (CLIENT, error) and returns the trace id.
std::string MakeTrace(TracerProvider& p) {
  Tracer t = p.GetTracer("view-test", "1.2");
  Span root = t.StartSpan("GET /items", SpanKind::kServer);
  root.SetAttribute("http.route", "/items");
  root.SetAttribute("http.response.status_code", int64_t(200));
  root.SetAttribute("flag", true);
  std::string id = root.GetContext().trace_id().ToHex();
  {
    Scope s = MakeCurrent(root);
    Span child = t.StartSpan("SELECT", SpanKind::kClient);
    const KeyValue ev[] = {{"count", AttributeValue(int64_t(3))}};
    child.AddEvent("rows", ev);
    child.SetStatus(StatusCode::kError, "boom");
    child.End();
  }
  root.End();
  return id;
}

struct TransportParam {
  otlp::Protocol protocol;
  bool gzip;
};

class Transports : public ::testing::TestWithParam<TransportParam> {};

TEST_P(Transports, OtelwebExporterSpansShowUpInTheApi) {
  Running v;
  otlp::OtlpExporterOptions o;
  o.read_environment = false;
  o.protocol = GetParam().protocol;
  o.endpoint = GetParam().protocol == otlp::Protocol::kGrpc ? v.grpc_endpoint() : v.http_url();
  o.compression = GetParam().gzip ? otlp::Compression::kGzip : otlp::Compression::kNone;
  auto p = ProviderTo(o, "seed-a");
  std::string id = MakeTrace(*p);
  p->Shutdown(5s);
  ASSERT_TRUE(v.store->Flush(5s));
  auto list = Get(v.server->ui_port(), "/api/traces?service=seed-a");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json["traces"].size(), 1u) << list.body;
  const Json& t = list.json["traces"][0];
  EXPECT_EQ(t["traceId"], id);
  EXPECT_EQ(t["rootName"], "GET /items");
  EXPECT_EQ(t["rootService"], "seed-a");
  EXPECT_EQ(t["spanCount"], 2);
  EXPECT_EQ(t["errorCount"], 1);
  EXPECT_TRUE(t["startTimeUnixNano"].is_string());
  auto tr = Get(v.server->ui_port(), "/api/traces/" + id);
  ASSERT_EQ(tr.status, 200);
  const Json& spans = tr.json["spans"];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]["name"], "GET /items");
  EXPECT_EQ(spans[0]["parentSpanId"], "");
  EXPECT_EQ(spans[0]["kind"], "SERVER");
  EXPECT_EQ(spans[0]["attributes"]["http.route"], "/items");
  EXPECT_EQ(spans[0]["attributes"]["http.response.status_code"], 200);
  EXPECT_EQ(spans[0]["attributes"]["flag"], true);
  const Json& scope = tr.json["scopes"][spans[0]["scopeIndex"].get<size_t>()];
  EXPECT_EQ(scope["name"], "view-test");
  EXPECT_EQ(scope["version"], "1.2");
  EXPECT_EQ(tr.json["resources"][spans[0]["resourceIndex"].get<size_t>()]["attributes"]["service.name"],
            "seed-a");
  EXPECT_FALSE(spans[0].contains("events"));  // left out when empty
  EXPECT_FALSE(spans[0].contains("droppedAttributesCount"));
  EXPECT_EQ(spans[1]["parentSpanId"], spans[0]["spanId"]);
  EXPECT_EQ(spans[1]["kind"], "CLIENT");
  EXPECT_EQ(spans[1]["status"]["code"], "ERROR");
  EXPECT_EQ(spans[1]["status"]["message"], "boom");
  EXPECT_EQ(spans[1]["events"][0]["name"], "rows");
  EXPECT_EQ(spans[1]["events"][0]["attributes"]["count"], 3);
  EXPECT_EQ(spans[1]["durationNano"].get<int64_t>(),
            std::stoll(spans[1]["endTimeUnixNano"].get<std::string>()) -
                std::stoll(spans[1]["startTimeUnixNano"].get<std::string>()));
}

INSTANTIATE_TEST_SUITE_P(Every, Transports,
                         ::testing::Values(TransportParam{otlp::Protocol::kGrpc, false},
                                           TransportParam{otlp::Protocol::kGrpc, true},
                                           TransportParam{otlp::Protocol::kHttpProtobuf, false},
                                           TransportParam{otlp::Protocol::kHttpProtobuf, true},
                                           TransportParam{otlp::Protocol::kHttpJson, false},
                                           TransportParam{otlp::Protocol::kHttpJson, true}),
                         [](const auto& i) {
                           std::string p = i.param.protocol == otlp::Protocol::kGrpc           ? "Grpc"
                                           : i.param.protocol == otlp::Protocol::kHttpProtobuf ? "HttpProtobuf"
                                                                                               : "HttpJson";
                           return p + (i.param.gzip ? "Gzip" : "Plain");
                         });

// Stop() right after Start() returns (it used to hang in join() when the
// listening threads had not started yet: cpp-httplib's stop() is a no-op
// until then). ctest's timeout turns a hang into a failure.
TEST(Receivers, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    std::string error;
    auto store = Store::Open({}, &error);
    ASSERT_TRUE(store) << error;
    ServerOptions o;
    o.ui_port = o.grpc_port = o.http_port = 0;
    auto server = ViewServer::Start(store.get(), o, &error);
    ASSERT_TRUE(server) << error;
    const auto t0 = std::chrono::steady_clock::now();
    server->Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10)) << "round " << i;
  }
}

TEST(Receivers, LogsAndMetricsAreStoredOverHttpAndGrpc) {
  Running v;
  lsvc::ExportLogsServiceRequest logs;
  auto* lr = logs.add_resource_logs()->add_scope_logs()->add_log_records();
  lr->set_time_unix_nano(1700000000000000000ull);
  lr->mutable_body()->set_string_value("hello");
  msvc::ExportMetricsServiceRequest metrics;
  auto* m = metrics.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("requests");
  m->mutable_sum()->add_data_points()->set_as_int(3);
  httplib::Client c("127.0.0.1", v.server->http_port());
  EXPECT_EQ(c.Post("/v1/logs", logs.SerializeAsString(), "application/x-protobuf")->status, 200);
  EXPECT_EQ(c.Post("/v1/metrics", ToOtlpJson(metrics), "application/json")->status, 200);
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(v.server->grpc_port()),
                                grpc::InsecureChannelCredentials());
  {
    grpc::ClientContext ctx;
    lsvc::ExportLogsServiceResponse resp;
    EXPECT_TRUE(lsvc::LogsService::NewStub(ch)->Export(&ctx, logs, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    msvc::ExportMetricsServiceResponse resp;
    EXPECT_TRUE(msvc::MetricsService::NewStub(ch)->Export(&ctx, metrics, &resp).ok());
  }
  ASSERT_TRUE(v.store->Flush(5s));
  auto stats = Get(v.server->ui_port(), "/api/stats");
  EXPECT_EQ(stats.json["logs"], 2);
  EXPECT_EQ(stats.json["metricPoints"], 2);
}

// The table of docs/view.md "What is accepted, what is rejected".
TEST(Receivers, InvalidInputIsRejectedWithTheRightStatus) {
  ServerOptions o;
  o.max_request_bytes = 1 << 20;
  Running v({}, o);
  std::string good = MakeRequest({{TraceHex(1), SpanHex(1), "", "ok"}}).SerializeAsString();
  std::string big(size_t(2) << 20, 'a');
  std::string bomb = Gzip(std::string(size_t(32) << 20, 0));  // 32 MiB of zeros in a few 100 KiB
  ASSERT_LT(bomb.size(), size_t(1) << 20);
  struct Case {
    const char* what;
    std::string path, content_type, encoding, body;
    int status;
  } cases[] = {
      {"protobuf", "/v1/traces", "application/x-protobuf", "", good, 200},
      {"protobuf gzip", "/v1/traces", "application/x-protobuf", "gzip", Gzip(good), 200},
      {"JSON with unknown fields", "/v1/traces", "application/json; charset=utf-8", "",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":")" + TraceHex(2) + R"(","spanId":")" +
           SpanHex(2) + R"(","name":"j","future":{"x":1}}]}]}],"extra":true})",
       200},
      {"empty protobuf request", "/v1/traces", "application/x-protobuf", "", "", 200},
      {"unknown Content-Type", "/v1/traces", "text/plain", "", good, 415},
      {"not protobuf", "/v1/traces", "application/x-protobuf", "", "\xff\xff\xff\xff", 400},
      {"not JSON", "/v1/traces", "application/json", "", "{", 400},
      {"JSON not an object", "/v1/traces", "application/json", "", "[1]", 400},
      {"JSON wrong type", "/v1/traces", "application/json", "", R"({"resourceSpans":3})", 400},
      {"base64 trace id", "/v1/traces", "application/json", "",
       R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":")" +
           SpanHex(3) + R"("}]}]}]})",
       400},
      {"gzip header, plain body", "/v1/traces", "application/x-protobuf", "gzip", good, 400},
      {"too large", "/v1/traces", "application/x-protobuf", "", big, 413},
      {"gzip bomb", "/v1/traces", "application/x-protobuf", "gzip", bomb, 413},
      {"unknown path", "/v1/spans", "application/x-protobuf", "", good, 404},
  };
  for (const auto& c : cases) {
    httplib::Client cl("127.0.0.1", v.server->http_port());
    httplib::Headers h;
    if (!c.encoding.empty()) h.emplace("Content-Encoding", c.encoding);
    auto r = cl.Post(c.path.c_str(), h, c.body, c.content_type.c_str());
    ASSERT_TRUE(r) << c.what;
    EXPECT_EQ(r->status, c.status) << c.what << ": " << r->body;
    if (c.status == 400 && c.content_type.find("json") != std::string::npos) {
      Json j = Json::parse(r->body, nullptr, false);
      EXPECT_EQ(j["code"], 3) << c.what;  // an OTLP Status: INVALID_ARGUMENT with a message
      EXPECT_FALSE(j["message"].get<std::string>().empty()) << c.what;
    }
  }
  auto get = Get(v.server->http_port(), "/v1/traces");
  EXPECT_EQ(get.status, 404);
  ASSERT_TRUE(v.store->Flush(5s));
  EXPECT_EQ(v.store->Stats().spans, 2);  // "protobuf gzip" resent the span of "protobuf": stored once
  EXPECT_EQ(v.store->Stats().duplicate_spans, 1);
}

TEST(Receivers, GrpcRefusesOversizeMessages) {
  ServerOptions o;
  o.max_request_bytes = 1 << 20;
  Running v({}, o);
  auto req = MakeRequest({{TraceHex(1), SpanHex(1), "", std::string(size_t(2) << 20, 'x')}});
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(v.server->grpc_port()),
                                grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  tsvc::ExportTraceServiceResponse resp;
  auto st = tsvc::TraceService::NewStub(ch)->Export(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
}

// Another connection holds the database's write lock: the writer waits, its
// queue fills, and the receivers ask senders to retry (never accept and drop).
TEST(Receivers, BackPressureAsksSendersToRetryAndLosesNothing) {
  auto dir = std::filesystem::temp_directory_path() / ("otelweb-view-bp-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "bp.db").string();
  StoreOptions so;
  so.path = path;
  so.max_queued_items = 1;
  Running v(so);
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  httplib::Client c("127.0.0.1", v.server->http_port());
  int accepted = 0, refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = c.Post("/v1/traces", MakeRequest({{TraceHex(i), SpanHex(i), "", "bp"}}).SerializeAsString(),
                    "application/x-protobuf");
    ASSERT_TRUE(r);
    if (r->status == 200) ++accepted;
    if (r->status == 503) {
      ++refused;
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(refused, 1);
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(v.server->grpc_port()),
                                grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  tsvc::ExportTraceServiceResponse resp;
  auto st = tsvc::TraceService::NewStub(ch)->Export(&ctx, MakeRequest({{TraceHex(9), SpanHex(9), "", "g"}}), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_details().find("type.googleapis.com/google.rpc.RetryInfo"), std::string::npos);

  // An otelweb exporter retrying as asked: its span is stored once the lock goes.
  otlp::OtlpExporterOptions o;
  o.read_environment = false;
  o.protocol = otlp::Protocol::kHttpProtobuf;
  o.endpoint = v.http_url();
  o.initial_backoff = 20ms;
  o.timeout = 15s;
  std::thread release([&] {
    std::this_thread::sleep_for(1500ms);
    sqlite3_exec(lock, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto p = ProviderTo(o, "retrying");
  std::string id = MakeTrace(*p);
  p->Shutdown(15s);
  release.join();
  sqlite3_close(lock);
  ASSERT_TRUE(v.store->Flush(10s));
  EXPECT_EQ(v.store->Stats().spans, accepted + 2);
  EXPECT_EQ(Get(v.server->ui_port(), "/api/traces/" + id).json["spans"].size(), 2u);
  v.server->Stop();
  v.store.reset();
  std::filesystem::remove_all(dir);
}

TEST(Store, PrunesOldestTracesAtTheCap) {
  StoreOptions so;
  so.max_bytes = 512 << 10;
  std::string error;
  auto store = Store::Open(so, &error);
  ASSERT_TRUE(store) << error;
  const int n = 3000;
  for (int i = 0; i < n; i += 100) {
    std::vector<SpanSpec> specs;
    for (int k = i; k < i + 100; ++k) {
      SpanSpec s{TraceHex(k), SpanHex(k), "", "op", k < 10 ? "old-svc" : "svc"};
      s.start = 1700000000000000000ull + uint64_t(k) * 1000000;
      s.attrs = {{"payload", std::string(200, char('a' + k % 26))}};
      specs.push_back(s);
    }
    ASSERT_EQ(store->AddTraces(MakeRequest(specs)), Admit::kStored);
    ASSERT_TRUE(store->Flush(10s));
  }
  auto st = store->Stats();
  EXPECT_LT(st.traces, n);
  EXPECT_GT(st.traces, 0);
  EXPECT_LE(st.db_bytes, so.max_bytes);
  std::string bin;
  std::vector<StoredSpan> spans;
  FromHex(TraceHex(0), 16, &bin);
  EXPECT_FALSE(store->GetTrace(bin, &spans));  // the oldest went first
  FromHex(TraceHex(n - 1), 16, &bin);
  EXPECT_TRUE(store->GetTrace(bin, &spans));  // the newest stays
  // The filters and the service list forget the pruned traces.
  EXPECT_EQ(store->Services(), std::vector<std::string>{"svc"});
  std::vector<TraceSummary> got;
  int64_t total = -1;
  TraceQuery q;
  q.service = "old-svc";
  ASSERT_TRUE(store->QueryTraces(q, &got, &total, &error)) << error;
  EXPECT_EQ(total, 0);
  EXPECT_TRUE(got.empty());
  q.service = "svc";
  q.attrs = {"payload=" + std::string(200, 'a')};  // traces k % 26 == 0, the stored ones only
  q.limit = 1000;
  ASSERT_TRUE(store->QueryTraces(q, &got, &total, &error)) << error;
  EXPECT_EQ(total, int64_t(got.size()));
  EXPECT_GT(total, 0);
  for (const auto& t : got) EXPECT_TRUE(store->GetTrace(t.trace_id, &spans)) << Hex(t.trace_id);
  EXPECT_LE(total, (st.traces + 25) / 26 + 1);
}

// A file of an older storage version is refused with what to do, and left as it was.
TEST(Store, AnOlderStorageVersionIsRefusedWithWhatToDo) {
  auto dir = std::filesystem::temp_directory_path() / ("otelweb-view-old-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "old.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // Version 2's spans table, with a row.
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE spans(tid INT, span_id BLOB, start INT, ctx INT, data BLOB);"
                         "INSERT INTO spans VALUES(1, x'01', 0, 1, x'');PRAGMA user_version=2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  StoreOptions so;
  so.path = path;
  std::string error;
  EXPECT_EQ(Store::Open(so, &error), nullptr);
  EXPECT_NE(error.find("older storage version (2"), std::string::npos) << error;
  EXPECT_NE(error.find("another --db path"), std::string::npos) << error;
  EXPECT_NE(error.find("delete or move that file"), std::string::npos) << error;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM spans", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // untouched
  sqlite3_finalize(st);
  sqlite3_close(db);
  // A newer version is refused as well, naming the newer program.
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=9", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(Store::Open(so, &error), nullptr);
  EXPECT_NE(error.find("newer storage version (9"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

// Param: the value filters drive the query (small ranges) or are probed
// while the start/duration index is walked (large ranges): same answers.
class Api : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    StoreOptions so;
    if (!GetParam()) so.drive_below = 0;
    v_ = std::make_unique<Running>(so);
    const uint64_t t0 = 1700000000000000000ull;
    // trace 1: seed-a GET /items -> seed-b SELECT (error), 5 ms, t0
    // trace 2: seed-a GET /users/{id} (route) 50 ms, t0 + 1 s, attr user=42
    // trace 3: seed-c only, no root received (its parent is missing), 2 ms, t0 + 2 s
    std::vector<SpanSpec> specs = {
        {TraceHex(1), SpanHex(10), "", "GET /items", "seed-a", 2, t0, 5000000},
        {TraceHex(1), SpanHex(11), SpanHex(10), "SELECT", "seed-b", 3, t0 + 1000, 1000000, true},
        {TraceHex(2), SpanHex(20), "", "GET", "seed-a", 2, t0 + 1000000000, 50000000, false,
         {{"http.route", "/users/{id}"}, {"user", "42"}, {"region", "eu"}}},
        {TraceHex(3), SpanHex(30), SpanHex(99), "work", "seed-c", 1, t0 + 2000000000, 2000000},
    };
    ASSERT_EQ(v_->store->AddTraces(MakeRequest(specs)), Admit::kStored);
    ASSERT_TRUE(v_->store->Flush(5s));
  }
  std::vector<std::string> Ids(const std::string& query) {
    auto a = Get(v_->server->ui_port(), "/api/traces" + query);
    EXPECT_EQ(a.status, 200) << query << ": " << a.body;
    std::vector<std::string> out;
    for (const auto& t : a.json["traces"]) out.push_back(t["traceId"].get<std::string>().substr(31));
    total_ = a.json["total"].get<int64_t>();
    return out;
  }
  using V = std::vector<std::string>;
  std::unique_ptr<Running> v_;
  int64_t total_ = 0;
};

TEST_P(Api, EveryFilterAndCombination) {
  EXPECT_EQ(Ids(""), (V{"3", "2", "1"}));  // newest first
  EXPECT_EQ(total_, 3);
  EXPECT_EQ(Ids("?service=seed-b"), (V{"1"}));
  EXPECT_EQ(Ids("?service=seed-a"), (V{"2", "1"}));
  EXPECT_EQ(Ids("?name=SELECT"), (V{"1"}));
  EXPECT_EQ(Ids("?name=%2Fusers%2F%7Bid%7D"), (V{"2"}));  // http.route
  EXPECT_EQ(Ids("?error=1"), (V{"1"}));
  EXPECT_EQ(Ids("?minDuration=4000000"), (V{"2", "1"}));
  EXPECT_EQ(Ids("?maxDuration=5000000"), (V{"3", "1"}));
  EXPECT_EQ(Ids("?minDuration=4000000&maxDuration=6000000"), (V{"1"}));
  EXPECT_EQ(Ids("?start=1700000000500000000"), (V{"3", "2"}));
  EXPECT_EQ(Ids("?end=1700000001500000000"), (V{"2", "1"}));
  EXPECT_EQ(Ids("?start=1700000000500000000&end=1700000001500000000"), (V{"2"}));
  EXPECT_EQ(Ids("?attr=user%3D42"), (V{"2"}));
  EXPECT_EQ(Ids("?attr=user%3D42&attr=region%3Deu"), (V{"2"}));
  EXPECT_EQ(Ids("?attr=user%3D42&attr=region%3Dus"), (V{}));
  EXPECT_EQ(Ids("?sort=duration"), (V{"2", "1", "3"}));
  EXPECT_EQ(Ids("?service=seed-a&error=1&name=GET%20%2Fitems"), (V{"1"}));
  EXPECT_EQ(Ids("?service=seed-a&sort=duration&limit=1"), (V{"2"}));
  EXPECT_EQ(total_, 2);
  EXPECT_EQ(Ids("?limit=1&offset=1"), (V{"2"}));
  EXPECT_EQ(total_, 3);
  auto list = Get(v_->server->ui_port(), "/api/traces?service=seed-b");
  EXPECT_EQ(list.json["traces"][0]["services"], (Json{"seed-a", "seed-b"}));
  EXPECT_EQ(list.json["traces"][0]["durationNano"], 5000000);
  auto orphan = Get(v_->server->ui_port(), "/api/traces?service=seed-c").json["traces"][0];
  EXPECT_EQ(orphan["rootName"], "work");  // no root: the first span
  EXPECT_EQ(Get(v_->server->ui_port(), "/api/services").json["services"], (Json{"seed-a", "seed-b", "seed-c"}));
  auto stats = Get(v_->server->ui_port(), "/api/stats").json;
  EXPECT_EQ(stats["traces"], 3);
  EXPECT_EQ(stats["spans"], 4);
  EXPECT_GT(stats["generation"].get<int64_t>(), 0);
  EXPECT_GT(stats["dbBytes"].get<int64_t>(), 0);
}

TEST_P(Api, BadParametersAndUnknownTracesAreErrors) {
  for (const char* q : {"?limit=0", "?limit=1001", "?minDuration=abc", "?start=-1", "?sort=oldest", "?error=2",
                        "?attr=novalue", "?attr=%3Dv"}) {
    auto a = Get(v_->server->ui_port(), std::string("/api/traces") + q);
    EXPECT_EQ(a.status, 400) << q;
    EXPECT_TRUE(a.json["error"].is_string()) << q;
  }
  EXPECT_EQ(Get(v_->server->ui_port(), "/api/traces/xyz").status, 400);
  EXPECT_EQ(Get(v_->server->ui_port(), "/api/traces/" + TraceHex(77)).status, 404);
  EXPECT_EQ(Get(v_->server->ui_port(), "/api/traces/" + TraceHex(77) + "/otlp").status, 404);
  EXPECT_EQ(Get(v_->server->ui_port(), "/api/nothing").status, 404);
}

TEST_P(Api, ExportThenLoadGivesTheSameTraces) {
  auto one = Get(v_->server->ui_port(), "/api/traces/" + TraceHex(1) + "/otlp");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json["resourceSpans"].size(), 2u);  // seed-a and seed-b
  auto ex = Get(v_->server->ui_port(), "/api/export?service=seed-a");
  ASSERT_EQ(ex.status, 200);
  EXPECT_EQ(std::count(ex.body.begin(), ex.body.end(), '\n'), 2);
  std::string file = (std::filesystem::temp_directory_path() / ("view-export-" + std::to_string(getpid()) + ".jsonl"));
  FILE* f = fopen(file.c_str(), "w");
  fputs(ex.body.c_str(), f);
  fclose(f);
  Running w;
  std::string error;
  size_t lines = 0;
  ASSERT_TRUE(LoadOtlpJsonLines(w.store.get(), file, &error, &lines)) << error;
  EXPECT_EQ(lines, 2u);
  for (int t : {1, 2}) {
    EXPECT_EQ(Get(w.server->ui_port(), "/api/traces/" + TraceHex(t)).json,
              Get(v_->server->ui_port(), "/api/traces/" + TraceHex(t)).json);
  }
  EXPECT_EQ(Get(w.server->ui_port(), "/api/traces/" + TraceHex(3)).status, 404);
  std::filesystem::remove(file);
}

TEST_P(Api, ThePageAndClientSideRoutes) {
  auto index = Get(v_->server->ui_port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("<html"), std::string::npos);
  auto deep = Get(v_->server->ui_port(), "/trace/" + TraceHex(1) + "?span=" + SpanHex(10));
  EXPECT_EQ(deep.status, 200);
  EXPECT_EQ(deep.body, index.body);
  // --ui-dir: files from the directory, index.html for other paths.
  auto dir = std::filesystem::temp_directory_path() / ("view-ui-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "assets");
  FILE* f = fopen((dir / "index.html").c_str(), "w");
  fputs("<html>dev page</html>", f);
  fclose(f);
  f = fopen((dir / "assets" / "app.js").c_str(), "w");
  fputs("console.log(1)", f);
  fclose(f);
  ServerOptions o;
  o.ui_dir = dir.string();
  Running w({}, o);
  EXPECT_EQ(Get(w.server->ui_port(), "/").body, "<html>dev page</html>");
  EXPECT_EQ(Get(w.server->ui_port(), "/assets/app.js").body, "console.log(1)");
  EXPECT_EQ(Get(w.server->ui_port(), "/trace/abc").body, "<html>dev page</html>");
  EXPECT_EQ(Get(w.server->ui_port(), "/../../etc/passwd").body, "<html>dev page</html>");
  std::filesystem::remove_all(dir);
}

// Debian's cpp-httplib would answer a browser (which accepts "br") with
// Brotli at its slowest setting: seconds for a large trace. API answers and
// the page's scripts must go out uncompressed.
TEST_P(Api, AnswersAreNotCompressedForABrowser) {
  httplib::Client c("127.0.0.1", v_->server->ui_port());
  c.set_decompress(false);
  const httplib::Headers browser = {{"Accept-Encoding", "gzip, deflate, br, zstd"}};
  for (std::string path : {"/api/traces/" + TraceHex(1), std::string("/api/traces"), std::string("/api/stats"),
                           "/api/traces/" + TraceHex(1) + "/otlp"}) {
    auto r = c.Get(path, browser);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Encoding"), "") << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json; charset=utf-8") << path;
    EXPECT_FALSE(nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false).is_discarded()) << path;
  }
  for (const UiAsset& a : UiAssets()) {
    if (a.path.ends_with(".js")) {
      auto r = c.Get(std::string(a.path), browser);
      ASSERT_TRUE(r) << a.path;
      EXPECT_EQ(r->get_header_value("Content-Encoding"), "") << a.path;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Plans, Api, ::testing::Bool(),
                         [](const auto& i) { return i.param ? std::string("Driven") : std::string("IndexWalk"); });

}  // namespace
}  // namespace otelweb::view
