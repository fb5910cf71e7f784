// OTLP file exporter: one OTLP/JSON TracesData per line, to a stream or a file.
#include "otelweb/otlp/file_exporter.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "core/utf8.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/tracer_provider.h"
#include "otelweb/diagnostics.h"
#include "receiver.h"

namespace otelweb::otlp {
namespace {

std::string ReadAll(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

::opentelemetry::proto::trace::v1::TracesData Parse(const std::string& line) {
  ::opentelemetry::proto::trace::v1::TracesData d;
  auto st = google::protobuf::util::JsonStringToMessage(testing::OtlpJsonToProto3Json(line), &d);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << line;
  return d;
}

// A provider whose spans reach an OtlpFileExporter writing to a temporary file.
struct FileSink {
  FILE* file = std::tmpfile();
  std::unique_ptr<TracerProvider> provider;
  Tracer tracer;
  explicit FileSink(bool batch = false) {
    OtlpFileExporterOptions o;
    o.out = file;
    TracerProviderOptions po;
    po.sampler = AlwaysOnSampler();
    po.resource = Resource({{"service.name", OwnedValue(AttributeValue("file-test"))}});
    auto e = std::make_unique<OtlpFileExporter>(o);
    if (batch) {
      BatchOptions bo;
      bo.schedule_delay = std::chrono::hours(1);  // only ForceFlush exports
      po.processors.push_back(std::make_unique<BatchSpanProcessor>(std::move(e), bo));
    } else {
      po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::move(e)));
    }
    provider = std::make_unique<TracerProvider>(std::move(po));
    tracer = provider->GetTracer("console", "9.9");
  }
  ~FileSink() {
    provider->Shutdown();
    std::fclose(file);
  }
  std::string Output() {
    provider->ForceFlush();
    return ReadAll(file);
  }
};

TEST(OtlpFileExporter, OneTracesDataPerLineWithEveryField) {
  FileSink c;
  Span other = c.tracer.StartSpan("other");
  SpanContext other_ctx = other.GetContext();
  Context parent = other.AsContext();
  other.End();
  {
    SpanOptions so;
    so.kind = SpanKind::kClient;
    so.parent = &parent;
    Span s = c.tracer.StartSpan("json \"quoted\"\n", so);
    s.SetAttribute("int", int64_t{-5});
    s.SetAttribute("big", int64_t{9007199254740993});
    s.SetAttribute("dbl", 1.5);
    s.SetAttribute("bad.utf8", "a\xff\xfe" "b");
    s.SetAttribute("arr", {"x", "y"});
    s.AddEvent("ev");
    s.AddLink(other_ctx);
    s.SetStatus(StatusCode::kError, "why");
  }
  std::string out = c.Output();
  std::istringstream lines(out);
  std::string line, last;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    last = line;
    EXPECT_TRUE(IsValidUtf8(line));
  }
  ASSERT_EQ(n, 2);
  for (const char* field :
       {"\"resourceSpans\"", "\"scopeSpans\"", "\"scope\":{\"name\":\"console\",\"version\":\"9.9\"}",
        "\"traceId\":\"", "\"spanId\":\"", "\"parentSpanId\"", "\"kind\":3", "\"startTimeUnixNano\":\"",
        "\"intValue\":\"-5\"", "\"intValue\":\"9007199254740993\"", "\"doubleValue\":1.5",
        "\"arrayValue\":{\"values\":[{\"stringValue\":\"x\"},{\"stringValue\":\"y\"}]}",
        "\"stringValue\":\"a\xEF\xBF\xBD\xEF\xBF\xBD" "b\"", "\"name\":\"json \\\"quoted\\\"\\n\"",
        "\"events\":[{\"timeUnixNano\":\"", "\"links\":[{\"traceId\":\"", "\"status\":{\"message\":\"why\",\"code\":2}",
        "\"droppedAttributesCount\":0", "\"key\":\"service.name\""}) {
    EXPECT_NE(last.find(field), std::string::npos) << "missing " << field << " in\n" << last;
  }
  // A root span has no parentSpanId.
  std::istringstream again(out);
  std::getline(again, line);
  EXPECT_EQ(line.find("\"parentSpanId\""), std::string::npos);
  // Independent check: node's JSON parser accepts every line, when node is here.
  if (std::system("node --version > /dev/null 2>&1") == 0) {
    std::string path = ::testing::TempDir() + "/otlp_lines.json";
    std::ofstream(path) << out;
    std::string cmd = "node -e \"const fs=require('fs');for(const l of fs.readFileSync('" + path +
                      "','utf8').trim().split('\\n')){const o=JSON.parse(l);"
                      "if(!o.resourceSpans[0].scopeSpans[0].spans[0].traceId.match(/^[0-9a-f]{32}$/))"
                      "process.exit(3)}\"";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}


TEST(OtlpFileExporter, ABatchIsOneLine) {
  FileSink c(/*batch=*/true);
  for (int i = 0; i < 3; ++i) c.tracer.StartSpan("s" + std::to_string(i)).End();
  std::vector<std::string> lines = Lines(c.Output());
  ASSERT_EQ(lines.size(), 1u);
  auto d = Parse(lines[0]);
  ASSERT_EQ(d.resource_spans_size(), 1);
  ASSERT_EQ(d.resource_spans(0).scope_spans_size(), 1);
  EXPECT_EQ(d.resource_spans(0).scope_spans(0).spans_size(), 3);
  EXPECT_EQ(d.resource_spans(0).scope_spans(0).spans(2).name(), "s2");
}

TEST(OtlpFileExporter, AppendsToAPathAndClosesItAtShutdown) {
  std::string path = ::testing::TempDir() + "/otlp_file_exporter_test.jsonl";
  std::remove(path.c_str());
  for (int run = 0; run < 2; ++run) {
    TracerProviderOptions po;
    po.sampler = AlwaysOnSampler();
    po.processors.push_back(std::make_unique<SimpleSpanProcessor>(
        std::make_unique<OtlpFileExporter>(OtlpFileExporterOptions{.path = path})));
    TracerProvider p(std::move(po));
    p.GetTracer("t").StartSpan("run" + std::to_string(run)).End();
    EXPECT_TRUE(p.Shutdown().ok());
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> lines = Lines(ss.str());
  ASSERT_EQ(lines.size(), 2u) << ss.str();
  EXPECT_EQ(Parse(lines[0]).resource_spans(0).scope_spans(0).spans(0).name(), "run0");
  EXPECT_EQ(Parse(lines[1]).resource_spans(0).scope_spans(0).spans(0).name(), "run1");
  std::remove(path.c_str());
}

TEST(OtlpFileExporter, AFileThatCannotBeOpenedFailsExportsAndSaysWhy) {
  std::vector<std::string> messages;
  SetDiagnosticsSink([&](LogLevel, std::string_view m) { messages.emplace_back(m); });
  OtlpFileExporter e(OtlpFileExporterOptions{.path = "/nonexistent-dir/x/spans.jsonl"});
  SetDiagnosticsSink(nullptr);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("/nonexistent-dir/x/spans.jsonl"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("check that the folder exists"), std::string::npos) << messages[0];
  std::vector<EndedSpan> none;
  EXPECT_EQ(e.Export(none), ExportResult::kSuccess);  // nothing to write
}

}  // namespace
}  // namespace otelweb::otlp
