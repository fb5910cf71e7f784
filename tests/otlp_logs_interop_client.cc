// Logs interop peer: a traced cpp-httplib server whose handler logs through
// spdlog (the otelweb sink), plus one record with every field set, exported
// by OtlpLogRecordExporter; prints what the receiver must decode on one
// "EXPECT " line (a neutral shape, not our OTLP/JSON renderer).
//
// Usage: otelweb_otlp_logs_interop_client <grpc|http/protobuf|http/json> <endpoint>
// Exit code 0 when the exporter reports every record delivered.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <thread>

#include "otelweb/httplib/client.h"
#include "otelweb/httplib/server.h"
#include "otelweb/logs/batch_log_record_processor.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/otlp/log_exporter.h"
#include "otelweb/spdlog/sink.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/trace/simple_span_processor.h"

using namespace otelweb;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <protocol> <endpoint>\n", argv[0]);
    return 2;
  }
  const std::string proto = argv[1];
  otlp::OtlpExporterOptions o;
  o.read_environment = false;
  o.endpoint = argv[2];
  o.protocol = proto == "grpc" ? otlp::Protocol::kGrpc
               : proto == "http/json" ? otlp::Protocol::kHttpJson
                                      : otlp::Protocol::kHttpProtobuf;
  auto exp = std::make_unique<otlp::OtlpLogRecordExporter>(o);
  otlp::OtlpLogRecordExporter* exporter = exp.get();
  logs::LoggerProviderOptions lo;
  lo.resource = Resource({{"service.name", OwnedValue(AttributeValue("logs-interop"))}});
  lo.processors.push_back(std::make_unique<logs::BatchLogRecordProcessor>(std::move(exp)));
  auto provider = std::make_shared<logs::LoggerProvider>(std::move(lo));

  auto store = std::make_shared<InMemorySpanStore>();
  TracerProviderOptions po;
  po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
  auto tracer_provider = std::make_shared<TracerProvider>(std::move(po));

  auto logger = std::make_shared<::spdlog::logger>("interop.http",
                                                   spdlog_bridge::MakeSink({.provider = provider}));
  otelweb::httplib::ServerOptions so;
  so.tracer_provider = tracer_provider;
  otelweb::httplib::TracedServer app(so);
  app.Get("/items", [&](const ::httplib::Request&, ::httplib::Response& res) {
    SPDLOG_LOGGER_INFO(logger, "GET /items served {} items", 3);
    res.set_content("[]", "application/json");
  });
  const int port = app.bind_to_any_port("127.0.0.1");
  std::thread server([&] { app.listen_after_bind(); });
  while (!app.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    ::httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/items");
    if (!r || r->status != 200) {
      std::fprintf(stderr, "request failed\n");
      return 1;
    }
  }
  app.stop();
  server.join();

  logs::Logger direct = provider->GetLogger("interop.direct", "1.2.3");
  logs::LogRecord rec = direct.CreateLogRecord();
  rec.SetTimestamp(Timestamp(std::chrono::nanoseconds(1700000000123456789)));
  rec.SetObservedTimestamp(Timestamp(std::chrono::nanoseconds(1700000000223456789)));
  rec.SetSeverity(logs::Severity::kWarn3, "WARN3");
  rec.SetBody("caf\xC3\xA9 \"quoted\"\n");
  rec.SetEventName("interop.event");
  rec.AddAttribute("s", "x");
  rec.AddAttribute("i", int64_t{-9007199254740993});
  rec.AddAttribute("d", 2.5);
  rec.AddAttribute("b", true);
  rec.SetTraceContext(*TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"), *SpanId::FromHex("b7ad6b7169203331"),
                      TraceFlags{1});
  direct.Emit(rec);

  logs::Logger structured = provider->GetLogger("interop.structured");
  logs::LogRecord sr = structured.CreateLogRecord();
  sr.SetSeverity(logs::Severity::kInfo);
  sr.SetBody(logs::BodyValue::Map({{"user", "ann"},
                                   {"ids", logs::BodyValue::Array({1, "two", 3.5, false})},
                                   {"nested", logs::BodyValue::Map({{"empty", logs::BodyValue::Array({})}})}}));
  structured.Emit(sr);

  if (!provider->ForceFlush(std::chrono::seconds(10)).ok() || exporter->counters().records_exported != 3) {
    std::fprintf(stderr, "export failed: %llu exported\n",
                 static_cast<unsigned long long>(exporter->counters().records_exported));
    return 1;
  }
  const SpanData* server_span = store->spans().at(0);
  std::printf(
      "EXPECT [{\"scope\":\"interop.http\",\"traceId\":\"%s\",\"spanId\":\"%s\",\"flags\":%d,"
      "\"severityNumber\":9,\"severityText\":\"info\",\"body\":{\"s\":\"GET /items served 3 items\"},"
      "\"codeLine\":true,\"service\":\"logs-interop\"},"
      "{\"scope\":\"interop.direct\",\"scopeVersion\":\"1.2.3\",\"traceId\":\"0af7651916cd43dd8448eb211c80319c\","
      "\"spanId\":\"b7ad6b7169203331\",\"flags\":1,\"severityNumber\":15,\"severityText\":\"WARN3\","
      "\"body\":{\"s\":\"caf\\u00e9 \\\"quoted\\\"\\n\"},\"eventName\":\"interop.event\","
      "\"time\":\"1700000000123456789\",\"observed\":\"1700000000223456789\","
      "\"attributes\":[{\"key\":\"s\",\"value\":{\"s\":\"x\"}},{\"key\":\"i\",\"value\":{\"i\":\"-9007199254740993\"}},"
      "{\"key\":\"d\",\"value\":{\"d\":2.5}},{\"key\":\"b\",\"value\":{\"b\":true}}],\"service\":\"logs-interop\"},"
      "{\"scope\":\"interop.structured\",\"body\":{\"kv\":[[\"user\",{\"s\":\"ann\"}],"
      "[\"ids\",{\"a\":[{\"i\":\"1\"},{\"s\":\"two\"},{\"d\":3.5},{\"b\":false}]}],"
      "[\"nested\",{\"kv\":[[\"empty\",{\"a\":[]}]]}]]}}]\n",
      server_span->trace_id().ToHex().c_str(), server_span->span_id().ToHex().c_str(),
      server_span->context().flags().value);
  std::fflush(stdout);
  (void)provider->Shutdown(std::chrono::seconds(2));
  return 0;
}
