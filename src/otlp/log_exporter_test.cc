// OTLP logs: the protobuf and JSON encoders parsed back with generated code
// of our logs .proto files, and the log exporter over gRPC, HTTP/protobuf and
// HTTP/JSON to the test receiver (real sockets), a collector that never
// answers, and the otlp/stdout file form.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/otlp/log_exporter.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span.h"
#include "receiver.h"

namespace otelweb::otlp {
namespace {

using namespace std::chrono_literals;
using LogsRequest = ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using testing::Receiver;

// A provider with a known resource; records are built through a real Logger
// so that scope and resource are what an exporter sees in production.
struct Source {
  std::shared_ptr<logs::LoggerProvider> provider;
  explicit Source(std::unique_ptr<logs::LogRecordProcessor> p = nullptr) {
    logs::LoggerProviderOptions o;
    o.resource = Resource({{"service.name", OwnedValue(AttributeValue("shop"))},
                           {"deployment", OwnedValue(AttributeValue(int64_t{3}))}});
    if (p) o.processors.push_back(std::move(p));
    provider = std::make_shared<logs::LoggerProvider>(std::move(o));
  }
};

logs::LogRecord MakeRecord(const logs::Logger& logger, const SpanContext& sc) {
  logs::LogRecord r = logger.CreateLogRecord();
  r.SetTimestamp(Timestamp(std::chrono::nanoseconds(1700000000123456789)));
  r.SetObservedTimestamp(Timestamp(std::chrono::nanoseconds(1700000000223456789)));
  r.SetSeverity(logs::Severity::kError, "err");
  r.SetBody("query failed: \"items\"\n");
  r.SetEventName("db.failure");
  r.AddAttribute("db.table", "items");
  r.AddAttribute("rows", int64_t{-7});
  r.AddAttribute("ratio", 0.25);
  r.AddAttribute("retry", true);
  r.SetSpanContext(sc);
  r.SetScope(nullptr, nullptr);
  return r;
}

SpanContext SomeContext() {
  return SpanContext(*TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"), *SpanId::FromHex("b7ad6b7169203331"),
                     TraceFlags{1}, false);
}

void ExpectRecord(const LogsRequest& req, const SpanContext& sc) {
  ASSERT_EQ(req.resource_logs_size(), 1);
  const auto& rl = req.resource_logs(0);
  ASSERT_EQ(rl.resource().attributes_size(), 2);
  EXPECT_EQ(rl.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rl.resource().attributes(0).value().string_value(), "shop");
  EXPECT_EQ(rl.resource().attributes(1).value().int_value(), 3);
  ASSERT_EQ(rl.scope_logs_size(), 1);
  EXPECT_EQ(rl.scope_logs(0).scope().name(), "app");
  ASSERT_EQ(rl.scope_logs(0).log_records_size(), 1);
  const auto& r = rl.scope_logs(0).log_records(0);
  EXPECT_EQ(r.time_unix_nano(), 1700000000123456789u);
  EXPECT_EQ(r.observed_time_unix_nano(), 1700000000223456789u);
  EXPECT_EQ(r.severity_number(), ::opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(r.severity_text(), "err");
  EXPECT_EQ(r.body().string_value(), "query failed: \"items\"\n");
  EXPECT_EQ(r.event_name(), "db.failure");
  ASSERT_EQ(r.attributes_size(), 4);
  EXPECT_EQ(r.attributes(0).key(), "db.table");
  EXPECT_EQ(r.attributes(0).value().string_value(), "items");
  EXPECT_EQ(r.attributes(1).value().int_value(), -7);
  EXPECT_EQ(r.attributes(2).value().double_value(), 0.25);
  EXPECT_TRUE(r.attributes(3).value().bool_value());
  EXPECT_EQ(r.flags(), 1u);
  EXPECT_EQ(r.trace_id(), std::string(reinterpret_cast<const char*>(sc.trace_id().bytes().data()), 16));
  EXPECT_EQ(r.span_id(), std::string(reinterpret_cast<const char*>(sc.span_id().bytes().data()), 8));
}

// Emits one record through the provider so scope and resource are set.
struct Capture final : logs::LogRecordExporter {
  std::vector<logs::LogRecord> got;
  ExportResult Export(std::span<const logs::LogRecord* const> b) noexcept override {
    for (auto* r : b) got.push_back(*r);
    return ExportResult::kSuccess;
  }
  OperationResult Shutdown(std::chrono::milliseconds) noexcept override { return OperationResult::Ok(); }
  std::string_view Name() const noexcept override { return "capture"; }
};

TEST(LogsEncoders, ProtobufAndJsonParseBackToTheSameRequest) {
  auto cap = std::make_unique<Capture>();
  Capture* c = cap.get();
  Source src(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(cap)));
  logs::Logger logger = src.provider->GetLogger("app");
  logs::LogRecord r = MakeRecord(logger, SomeContext());
  logger.Emit(r);
  ASSERT_EQ(c->got.size(), 1u);
  const logs::LogRecord* one = &c->got[0];
  std::span<const logs::LogRecord* const> batch(&one, 1);

  LogsProtobufEncoder enc;
  LogsRequest pb;
  ASSERT_TRUE(pb.ParseFromString(enc.Encode(batch)));
  ExpectRecord(pb, SomeContext());

  LogsRequest js;
  const std::string json = EncodeLogsJson(batch);
  auto st = google::protobuf::util::JsonStringToMessage(testing::OtlpJsonToProto3Json(json), &js);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  ExpectRecord(js, SomeContext());
  EXPECT_NE(json.find("\"traceId\":\"0af7651916cd43dd8448eb211c80319c\""), std::string::npos);
  EXPECT_NE(json.find("\"timeUnixNano\":\"1700000000123456789\""), std::string::npos);
}

// Array and map bodies: ArrayValue / KeyValueList in both encodings, parsed
// back by libprotobuf.
TEST(LogsEncoders, ArrayAndMapBodies) {
  logs::LogRecord r;
  r.SetSeverity(logs::Severity::kInfo);
  r.SetBody(logs::BodyValue::Map({{"user", "ann"},
                                  {"ids", logs::BodyValue::Array({1, "two", 3.5, false})},
                                  {"empty", logs::BodyValue::Map({})}}));
  const logs::LogRecord* one = &r;
  std::span<const logs::LogRecord* const> batch(&one, 1);
  auto check = [](const LogsRequest& req) {
    const auto& body = req.resource_logs(0).scope_logs(0).log_records(0).body();
    ASSERT_TRUE(body.has_kvlist_value());
    const auto& kv = body.kvlist_value();
    ASSERT_EQ(kv.values_size(), 3);
    EXPECT_EQ(kv.values(0).key(), "user");
    EXPECT_EQ(kv.values(0).value().string_value(), "ann");
    EXPECT_EQ(kv.values(1).key(), "ids");
    ASSERT_TRUE(kv.values(1).value().has_array_value());
    const auto& arr = kv.values(1).value().array_value();
    ASSERT_EQ(arr.values_size(), 4);
    EXPECT_EQ(arr.values(0).int_value(), 1);
    EXPECT_EQ(arr.values(1).string_value(), "two");
    EXPECT_EQ(arr.values(2).double_value(), 3.5);
    EXPECT_TRUE(arr.values(3).has_bool_value());
    EXPECT_FALSE(arr.values(3).bool_value());
    EXPECT_EQ(kv.values(2).key(), "empty");
    EXPECT_TRUE(kv.values(2).value().has_kvlist_value());
    EXPECT_EQ(kv.values(2).value().kvlist_value().values_size(), 0);
  };
  LogsProtobufEncoder enc;
  LogsRequest pb;
  ASSERT_TRUE(pb.ParseFromString(enc.Encode(batch)));
  check(pb);
  LogsRequest js;
  const std::string json = EncodeLogsJson(batch);
  auto st = google::protobuf::util::JsonStringToMessage(testing::OtlpJsonToProto3Json(json), &js);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  check(js);
}

// The exporter's path: views of batches of varying size are the bytes
// Encode() gives, in storage that stays put once the largest batch is done.
TEST(LogsEncoders, ViewsOfVaryingBatchesAreTheEncodedBytes) {
  auto cap = std::make_unique<Capture>();
  Capture* c = cap.get();
  Source src(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(cap)));
  for (int i = 0; i < 40; ++i) {
    src.provider->GetLogger(i % 3 == 0 ? "a" : "b").Emit(logs::Severity::kWarn, "record " + std::to_string(i));
  }
  std::vector<const logs::LogRecord*> ptrs;
  for (auto& r : c->got) ptrs.push_back(&r);
  ASSERT_EQ(ptrs.size(), 40u);
  auto first = [&](size_t n) { return std::span<const logs::LogRecord* const>(ptrs.data(), n); };
  LogsProtobufEncoder enc;
  const char* largest = enc.EncodeView(first(40)).data();
  for (size_t n : {1u, 40u, 7u, 39u, 2u}) {
    const std::string expected = LogsProtobufEncoder().Encode(first(n));
    const std::string_view view = enc.EncodeView(first(n));
    EXPECT_EQ(view, expected) << n << " records";
    EXPECT_EQ(view.data(), largest) << n << " records";
    LogsRequest pb;
    ASSERT_TRUE(pb.ParseFromString(std::string(view)));
    int records = 0;
    for (const auto& rl : pb.resource_logs())
      for (const auto& sl : rl.scope_logs()) records += sl.log_records_size();
    EXPECT_EQ(records, static_cast<int>(n));
  }
}

TEST(LogsEncoders, GroupsByScopeAndOmitsAbsentContext) {
  auto cap = std::make_unique<Capture>();
  Capture* c = cap.get();
  Source src(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(cap)));
  src.provider->GetLogger("a").Emit(logs::Severity::kInfo, "1");
  src.provider->GetLogger("b").Emit(logs::Severity::kInfo, "2");
  src.provider->GetLogger("a").Emit(logs::Severity::kInfo, "3");
  std::vector<const logs::LogRecord*> ptrs;
  for (auto& r : c->got) ptrs.push_back(&r);
  LogsProtobufEncoder enc;
  LogsRequest pb;
  ASSERT_TRUE(pb.ParseFromString(enc.Encode(ptrs)));
  ASSERT_EQ(pb.resource_logs_size(), 1);
  ASSERT_EQ(pb.resource_logs(0).scope_logs_size(), 2);
  EXPECT_EQ(pb.resource_logs(0).scope_logs(0).log_records_size(), 2);
  EXPECT_EQ(pb.resource_logs(0).scope_logs(0).log_records(1).body().string_value(), "3");
  EXPECT_TRUE(pb.resource_logs(0).scope_logs(0).log_records(0).trace_id().empty());
}

OtlpExporterOptions For(const Receiver& r, Protocol p) {
  OtlpExporterOptions o;
  o.read_environment = false;
  o.protocol = p;
  o.endpoint = p == Protocol::kGrpc ? r.grpc_endpoint() : r.http_base() + "/v1/logs";
  o.timeout = 5s;
  o.initial_backoff = 20ms;
  o.max_backoff = 100ms;
  return o;
}

class LogExporterTransports : public ::testing::TestWithParam<Protocol> {};

// A record logged inside a span travels over each transport with that span's
// ids, and the receiver's generated code decodes it.
TEST_P(LogExporterTransports, DeliversRecordsWithTheirSpan) {
  Receiver receiver;
  otelweb::testing::MemoryTracing tracing;
  auto exp = std::make_unique<OtlpLogRecordExporter>(For(receiver, GetParam()));
  OtlpLogRecordExporter* e = exp.get();
  Source src(std::make_unique<logs::BatchLogRecordProcessor>(std::move(exp)));
  logs::Logger logger = src.provider->GetLogger("app");
  auto span = tracing.tracer().StartSpan("GET /items");
  {
    Scope s = MakeCurrent(span);
    logger.Emit(logs::Severity::kInfo, "served");
  }
  ASSERT_TRUE(src.provider->ForceFlush(5s).ok());
  EXPECT_EQ(e->counters().records_exported, 1u);
  auto seen = receiver.seen();
  ASSERT_EQ(seen.size(), 1u);
  if (GetParam() == Protocol::kGrpc) {
    EXPECT_EQ(seen[0].path, "/opentelemetry.proto.collector.logs.v1.LogsService/Export");
  } else {
    EXPECT_EQ(seen[0].path, "/v1/logs");
  }
  LogsRequest req;
  if (GetParam() == Protocol::kHttpJson) {
    EXPECT_EQ(seen[0].content_type, "application/json");
    auto st = google::protobuf::util::JsonStringToMessage(testing::OtlpJsonToProto3Json(seen[0].body), &req);
    ASSERT_TRUE(st.ok()) << st.ToString();
  } else {
    ASSERT_TRUE(req.ParseFromString(seen[0].body));
  }
  const auto& r = req.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(r.body().string_value(), "served");
  EXPECT_EQ(r.span_id(),
            std::string(reinterpret_cast<const char*>(span.GetContext().span_id().bytes().data()), 8));
  EXPECT_EQ(r.trace_id(),
            std::string(reinterpret_cast<const char*>(span.GetContext().trace_id().bytes().data()), 16));
}

INSTANTIATE_TEST_SUITE_P(AllTransports, LogExporterTransports,
                         ::testing::Values(Protocol::kGrpc, Protocol::kHttpProtobuf, Protocol::kHttpJson));

TEST(LogExporter, EnvironmentOfTheLogsSignal) {
  setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://127.0.0.1:9/custom/logs", 1);
  setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json", 1);
  OtlpLogRecordExporter e;
  unsetenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
  unsetenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL");
  EXPECT_EQ(e.options().signal, Signal::kLogs);
  EXPECT_EQ(e.options().url, "http://127.0.0.1:9/custom/logs");
  EXPECT_EQ(e.options().protocol, Protocol::kHttpJson);
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9", 1);
  OtlpLogRecordExporter g;
  unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  EXPECT_EQ(g.options().url, "http://127.0.0.1:9/v1/logs");
}

// A collector that accepts connections and never answers: the emitting
// threads never wait, the queue overflows and the drops are counted.
TEST(LogExporter, CollectorThatNeverAnswersNeverBlocksTheCaller) {
  Receiver receiver;
  receiver.SetDelay(std::chrono::milliseconds(3000));
  auto o = For(receiver, Protocol::kHttpProtobuf);
  o.timeout = 1s;
  logs::BatchLogRecordProcessorOptions bo;
  bo.max_queue_size = 256;
  bo.max_export_batch_size = 64;
  bo.schedule_delay = 10ms;
  auto p = std::make_unique<logs::BatchLogRecordProcessor>(std::make_unique<OtlpLogRecordExporter>(o), bo);
  logs::BatchLogRecordProcessor* proc = p.get();
  Source src(std::move(p));
  logs::Logger logger = src.provider->GetLogger("app");
  std::this_thread::sleep_for(50ms);
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t slowest_ns = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto a = std::chrono::steady_clock::now();
    logger.Emit(logs::Severity::kInfo, "x");
    slowest_ns = std::max<uint64_t>(slowest_ns, (std::chrono::steady_clock::now() - a).count());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_LT(slowest_ns, 200'000'000u) << "an Emit waited for the collector";
  EXPECT_GE(proc->counters().dropped_queue_full, 20000u - 256u - 64u);
  (void)src.provider->Shutdown(100ms);
}

TEST(OtlpFileLogRecordExporter, OneLogsDataPerLine) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Source src(std::make_unique<logs::SimpleLogRecordProcessor>(
      std::make_unique<OtlpFileLogRecordExporter>(OtlpFileExporterOptions{.out = f})));
  logs::Logger logger = src.provider->GetLogger("app");
  logger.Emit(logs::Severity::kWarn, "first");
  logger.Emit(logs::Severity::kWarn, "second");
  std::rewind(f);
  char buf[8192];
  int lines = 0;
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    ::opentelemetry::proto::logs::v1::LogsData d;
    auto st = google::protobuf::util::JsonStringToMessage(testing::OtlpJsonToProto3Json(buf), &d);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(d.resource_logs(0).scope_logs(0).log_records(0).body().string_value(),
              lines == 0 ? "first" : "second");
    ++lines;
  }
  EXPECT_EQ(lines, 2);
  (void)src.provider->Shutdown();  // before the stream is closed
  std::fclose(f);
}

}  // namespace
}  // namespace otelweb::otlp
