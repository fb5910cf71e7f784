// Console exporter: the trace tree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <string>

#include "otelweb/trace/console_exporter.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/tracer_provider.h"
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
  explicit Console(ConsoleSpanExporterOptions o = {}) {
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
  Console c;
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
  Console c;
  Span root = c.tracer.StartSpan("never-ends-in-time");
  Scope s(root.AsContext());
  c.tracer.StartSpan("orphan-child").End();
  std::string out = c.Output();
  EXPECT_NE(out.find("orphan-child"), std::string::npos);
  EXPECT_NE(out.find("parent not seen"), std::string::npos);
}

TEST(ConsoleTree, HighlightKeysComeFirstAndAreConfigurable) {
  {
    // Default: HTTP and database keys first; an application key is one of the
    // others, after them.
    Console c;
    {
      Span s = c.tracer.StartSpan("GET /", SpanKind::kServer);
      s.SetAttribute("user.id", "alice");
      s.SetAttribute("http.response.status_code", int64_t{200});
    }
    std::string out = c.Output();
    size_t status = out.find("http.response.status_code=200");
    size_t user = out.find("user.id=\"alice\"");
    ASSERT_NE(status, std::string::npos) << out;
    ASSERT_NE(user, std::string::npos) << out;
    EXPECT_LT(status, user);
  }
  {
    // The application's own list: user.id first, HTTP keys not highlighted.
    ConsoleSpanExporterOptions o;
    o.highlight_keys = {"user.id"};
    Console c(o);
    {
      Span s = c.tracer.StartSpan("GET /", SpanKind::kServer);
      s.SetAttribute("http.response.status_code", int64_t{200});
      s.SetAttribute("user.id", "alice");
    }
    std::string out = c.Output();
    size_t status = out.find("http.response.status_code=200");
    size_t user = out.find("user.id=\"alice\"");
    ASSERT_NE(status, std::string::npos) << out;
    ASSERT_NE(user, std::string::npos) << out;
    EXPECT_LT(user, status);
  }
  const std::vector<std::string> defaults = ConsoleSpanExporterOptions::DefaultHighlightKeys();
  EXPECT_EQ(std::count(defaults.begin(), defaults.end(), "user.id"), 0);
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
