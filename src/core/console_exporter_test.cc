// Console exporter: the trace tree and the OTLP/JSON lines.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "otelweb/trace/console_exporter.h"
#include "otelweb/otelweb.h"
#include "core/utf8.h"

namespace otelweb {
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

struct Console {
  FILE* file = std::tmpfile();
  std::unique_ptr<TracerProvider> provider;
  Tracer tracer;
  explicit Console(ConsoleExporterOptions::Format format) {
    ConsoleExporterOptions o;
    o.format = format;
    o.out = file;
    o.color = false;
    TracerProviderOptions po;
    po.sampler = AlwaysOnSampler();
    po.resource = Resource({{"service.name", OwnedValue(AttributeValue("console-test"))}});
    po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<ConsoleSpanExporter>(o)));
    provider = std::make_unique<TracerProvider>(std::move(po));
    tracer = provider->GetTracer("console", "9.9");
  }
  ~Console() { std::fclose(file); }
  std::string Output() {
    provider->ForceFlush();
    return ReadAll(file);
  }
};

TEST(ConsoleTree, ChildrenPrintUnderTheirParentOnceTheRootEnds) {
  Console c(ConsoleExporterOptions::Format::kTree);
  {
    Span root = c.tracer.StartSpan("GET /items", SpanKind::kServer);
    root.SetAttribute("http.route", "/items");
    Scope s(root.AsContext());
    {
      Span q = c.tracer.StartSpan("SELECT items", SpanKind::kClient);
      q.SetAttribute("db.query.text", "SELECT * FROM items WHERE id = ?");
    }
    EXPECT_EQ(ReadAll(c.file), "");  // held until the root ends
    Span err = c.tracer.StartSpan("fails");
    err.SetStatus(StatusCode::kError, "boom");
    err.AddEvent("retry");
  }
  std::string out = c.Output();
  size_t header = out.find("trace ");
  size_t root = out.find("GET /items");
  size_t child = out.find("SELECT items");
  ASSERT_NE(header, std::string::npos) << out;
  ASSERT_NE(root, std::string::npos) << out;
  ASSERT_NE(child, std::string::npos) << out;
  EXPECT_LT(header, root);
  EXPECT_LT(root, child);
  EXPECT_NE(out.find("service=console-test"), std::string::npos);
  EXPECT_NE(out.find("SERVER"), std::string::npos);
  EXPECT_NE(out.find("http.route=\"/items\""), std::string::npos);
  EXPECT_NE(out.find("ERROR (boom)"), std::string::npos);
  EXPECT_NE(out.find("* event retry"), std::string::npos);
  // The child line is indented deeper than the root line.
  size_t root_line = out.rfind('\n', root) + 1, child_line = out.rfind('\n', child) + 1;
  EXPECT_GT(child - child_line, root - root_line);
}

TEST(ConsoleTree, OrphansPrintAtFlush) {
  Console c(ConsoleExporterOptions::Format::kTree);
  Span root = c.tracer.StartSpan("never-ends-in-time");
  Scope s(root.AsContext());
  c.tracer.StartSpan("orphan-child").End();
  std::string out = c.Output();
  EXPECT_NE(out.find("orphan-child"), std::string::npos);
  EXPECT_NE(out.find("parent not seen"), std::string::npos);
}

TEST(ConsoleJson, OneOtlpJsonObjectPerLineWithEveryField) {
  Console c(ConsoleExporterOptions::Format::kJsonLines);
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
    std::string path = testing::TempDir() + "/otlp_lines.json";
    std::ofstream(path) << out;
    std::string cmd = "node -e \"const fs=require('fs');for(const l of fs.readFileSync('" + path +
                      "','utf8').trim().split('\\n')){const o=JSON.parse(l);"
                      "if(!o.resourceSpans[0].scopeSpans[0].spans[0].traceId.match(/^[0-9a-f]{32}$/))"
                      "process.exit(3)}\"";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

TEST(Utf8, ValidationAndRepair) {
  EXPECT_TRUE(IsValidUtf8("plain ascii text, longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xE2\x82"));       // truncated
  std::string out;
  AppendSanitizedUtf8(out, "ok\xE2\x82");
  EXPECT_EQ(out, "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace otelweb
