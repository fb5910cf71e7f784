// Variables that had no test showing them take effect on real telemetry:
// each is set in the environment alone (nothing in code) and the spans, log
// records, injected headers or served endpoint change accordingly. The OTEL_*
// audit (tests/otel_env_audit.sh) checks that tests/otel_env_effects.txt names
// such a test for every variable of docs/configuration.md.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "otelweb/diagnostics.h"
#include "otelweb/logs/in_memory_exporter.h"
#include "otelweb/logs/logger_provider.h"
#include "otelweb/logs/simple_log_record_processor.h"
#include "otelweb/metrics/meter_provider.h"
#include "otelweb/otelweb.h"
#include "otelweb/propagation.h"
#if __has_include("otelweb/prometheus/exporter.h")
#include "otelweb/prometheus/exporter.h"
#endif
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/testing/span_readers.h"

namespace otelweb {
namespace {

using testing::ScopedEnv;

TEST(EnvEffect, SpanLimitsShapeRealSpans) {
  ScopedEnv env;
  env.Set("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2");
  env.Set("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4");
  env.Set("OTEL_SPAN_EVENT_COUNT_LIMIT", "1");
  env.Set("OTEL_SPAN_LINK_COUNT_LIMIT", "1");
  env.Set("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1");
  env.Set("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "1");
  testing::MemoryTracing t;
  {
    Span other = t.tracer().StartSpan("other");
    Span s = t.tracer().StartSpan("limited");
    s.SetAttribute("a", "abcdefgh");
    s.SetAttribute("b", int64_t{1});
    s.SetAttribute("c", int64_t{2});
    const KeyValue two[] = {{"x", int64_t{1}}, {"y", int64_t{2}}};
    s.AddEvent("e1", two);
    s.AddEvent("e2");
    s.AddLink(other.GetContext(), two);
    s.AddLink(other.GetContext());
    s.End();
    other.End();
  }
  const SpanData* s = nullptr;
  for (const SpanData* d : t.Exactly(2)) {
    if (d->name() == "limited") s = d;
  }
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(testing::StrAttr(s, "a"), "abcd");  // OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT
  EXPECT_EQ(s->dropped_attributes(), 1u);       // OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT
  ASSERT_EQ(s->event_count(), 1u);              // OTEL_SPAN_EVENT_COUNT_LIMIT
  EXPECT_EQ(s->event_attribute_count(0), 1u);   // OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT
  ASSERT_EQ(s->link_count(), 1u);               // OTEL_SPAN_LINK_COUNT_LIMIT
  EXPECT_EQ(s->link_attribute_count(0), 1u);    // OTEL_LINK_ATTRIBUTE_COUNT_LIMIT
}

TEST(EnvEffect, GeneralAttributeLimitsShapeRealSpans) {
  ScopedEnv env;
  env.Set("OTEL_ATTRIBUTE_COUNT_LIMIT", "1");
  env.Set("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3");
  testing::MemoryTracing t;
  {
    Span s = t.tracer().StartSpan("limited");
    s.SetAttribute("a", "abcdefgh");
    s.SetAttribute("b", "kept out");
  }
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(testing::StrAttr(spans[0], "a"), "abc");
  EXPECT_EQ(spans[0]->dropped_attributes(), 1u);
}

TEST(EnvEffect, PropagatorsChooseWhatIsInjected) {
  auto injected = [](const char* propagators) {
    ScopedEnv env("OTEL_PROPAGATORS", propagators);
    TracingOptions o;
    o.exporter_name = "none";
    o.sampler = AlwaysOnSampler();
    auto tracing = InstallTracing(std::move(o));
    Span s = GetTracer("env").StartSpan("out");
    Scope scope = MakeCurrent(s);
    std::map<std::string, std::string, std::less<>> headers;
    MapCarrier carrier(headers);
    GetTextMapPropagator()->Inject(Context::Current(), carrier);
    return headers;
  };
  EXPECT_EQ(injected("tracecontext").count("traceparent"), 1u);
  EXPECT_EQ(injected("none").count("traceparent"), 0u);
  EXPECT_EQ(injected("baggage").count("traceparent"), 0u);
}

TEST(EnvEffect, LogRecordLimitsShapeRealRecords) {
  ScopedEnv env;
  env.Set("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "1");
  env.Set("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3");
  auto exporter = std::make_unique<logs::InMemoryLogRecordExporter>();
  logs::InMemoryLogRecordExporter* mem = exporter.get();
  logs::LoggerProviderOptions o;
  o.processors.push_back(std::make_unique<logs::SimpleLogRecordProcessor>(std::move(exporter)));
  auto provider = std::make_shared<logs::LoggerProvider>(std::move(o));
  const KeyValue attrs[] = {{"k", "abcdef"}, {"dropped", "x"}};
  provider->GetLogger("env").Emit(logs::Severity::kInfo, "line", attrs);
  auto records = mem->records();
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].attribute_count(), 1u);
  EXPECT_EQ(records[0].attribute(0).value.as_string(), "abc");
  (void)provider->Shutdown();
}

// OTEL_LOG_LEVEL is read once per process: the test runs itself again with
// the variable set and reads what the SDK printed on stderr.
TEST(EnvEffect, LogLevelFiltersTheSdksOwnMessages) {
  if (std::getenv("OTELWEB_ENV_EFFECT_CHILD") != nullptr) {
    Log(LogLevel::kInfo, "child-info");
    Log(LogLevel::kWarning, "child-warning");
    Log(LogLevel::kError, "child-error");
    return;
  }
  char exe[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  auto run = [&](const char* level) {
    const std::string cmd = std::string("OTELWEB_ENV_EFFECT_CHILD=1 OTEL_LOG_LEVEL=") + level + " '" + exe +
                            "' --gtest_filter=EnvEffect.LogLevelFiltersTheSdksOwnMessages 2>&1";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[512];
      while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
      pclose(p);
    }
    return out;
  };
  const std::string error = run("error");
  EXPECT_NE(error.find("child-error"), std::string::npos) << error;
  EXPECT_EQ(error.find("child-warning"), std::string::npos) << error;
  EXPECT_EQ(error.find("child-info"), std::string::npos) << error;
  const std::string info = run("info");
  EXPECT_NE(info.find("child-info"), std::string::npos) << info;
  const std::string none = run("none");
  EXPECT_EQ(none.find("child-"), std::string::npos) << none;
}

#if __has_include("otelweb/prometheus/exporter.h")
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(EnvEffect, PrometheusHostAndPortDecideWhereMetricsAreServed) {
  const int port = FreePort();
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1");
  env.Set("OTEL_EXPORTER_PROMETHEUS_PORT", std::to_string(port));
  auto exporter = std::make_shared<prometheus::PrometheusExporter>();
  metrics::MeterProviderOptions mo;
  mo.readers.push_back(exporter);
  metrics::MeterProvider provider(std::move(mo));
  EXPECT_EQ(exporter->port(), port);
  // Served there: a plain HTTP GET gets the text format.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  char buf[64] = {};
  ASSERT_GT(read(fd, buf, sizeof buf - 1), 0);
  close(fd);
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.", 0), 0u) << buf;
  EXPECT_NE(std::string(buf).find(" 200 "), std::string::npos) << buf;
}
#endif

}  // namespace
}  // namespace otelweb
