// The real otelweb-view program: the first line, port 0, a port in use, --db
// kept across a restart, --load of an otlp/file exporter's file, stopping on
// SIGINT and SIGTERM, usage errors.
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>

#include "otelweb/otelweb.h"
#include "otelweb/otlp/file_exporter.h"
#include "view/view_test_util.h"

namespace otelweb::view {
namespace {

using namespace testing;

std::filesystem::path TempDir(const char* name) {
  auto d = std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::vector<std::string> FreePorts() { return {"--ui-port", "0", "--grpc-port", "0", "--http-port", "0"}; }

TEST(Cli, FirstLineNamesEveryPortAndSigintStopsCleanly) {
  Child c(FreePorts());
  std::string line = c.FirstLine();
  Ports p;
  ASSERT_TRUE(ParseAddressLine(line, &p)) << line;
  EXPECT_EQ(Get(p.ui, "/api/stats").status, 200);
  httplib::Client h("127.0.0.1", p.http);
  auto r = h.Post("/v1/traces", MakeRequest({{TraceHex(1), SpanHex(1), "", "x"}}).SerializeAsString(),
                  "application/x-protobuf");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(c.Stop(SIGINT), 0);
  EXPECT_NE(c.Stderr().find("stopped (1 traces, 1 spans stored"), std::string::npos);
}

TEST(Cli, APortInUseIsOneErrorNamingItsFlag) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string busy = std::to_string(ntohs(a.sin_port));
  for (const char* flag : {"--ui-port", "--grpc-port", "--http-port"}) {
    auto args = FreePorts();
    for (size_t i = 0; i < args.size(); i += 2) {
      if (args[i] == flag) args[i + 1] = busy;
    }
    Child c(args);
    EXPECT_EQ(c.FirstLine(), "") << flag;
    EXPECT_EQ(c.Wait(10s), 1) << flag;
    std::string err = c.Stderr();
    EXPECT_NE(err.find(std::string("choose another port with ") + flag), std::string::npos) << err;
    EXPECT_NE(err.find("127.0.0.1:" + busy), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  close(fd);
}

TEST(Cli, RestartWithDbKeepsTheData) {
  auto dir = TempDir("otelweb-view-cli-db");
  std::string db = (dir / "v.db").string();
  {
    auto args = FreePorts();
    args.insert(args.end(), {"--db", db});
    Child c(args);
    Ports p;
    ASSERT_TRUE(ParseAddressLine(c.FirstLine(), &p));
    httplib::Client h("127.0.0.1", p.http);
    auto r = h.Post("/v1/traces",
                    MakeRequest({{TraceHex(5), SpanHex(5), "", "kept", "disk"}}).SerializeAsString(),
                    "application/x-protobuf");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(c.Stop(SIGTERM), 0);
  }
  auto args = FreePorts();
  args.insert(args.end(), {"--db", db});
  Child c(args);
  Ports p;
  ASSERT_TRUE(ParseAddressLine(c.FirstLine(), &p));
  auto t = Get(p.ui, "/api/traces/" + TraceHex(5));
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.json["spans"][0]["name"], "kept");
  EXPECT_EQ(Get(p.ui, "/api/services").json["services"], (Json{"disk"}));
  EXPECT_EQ(c.Stop(), 0);
  std::filesystem::remove_all(dir);
}

TEST(Cli, LoadsTheFileExportersFormat) {
  auto dir = TempDir("otelweb-view-cli-load");
  std::string file = (dir / "spans.jsonl").string();
  std::string id;
  {
    TracerProviderOptions po;
    po.sampler = AlwaysOnSampler();
    po.resource = Resource(std::vector<OwnedKeyValue>{{"service.name", OwnedValue(AttributeValue("filed"))}});
    otlp::OtlpFileExporterOptions fo;
    fo.path = file;
    po.processors.push_back(std::make_unique<SimpleSpanProcessor>(std::make_unique<otlp::OtlpFileExporter>(fo)));
    TracerProvider p(std::move(po));
    Tracer t = p.GetTracer("load-test");
    Span root = t.StartSpan("GET /fetch-external", SpanKind::kServer);
    id = root.GetContext().trace_id().ToHex();
    {
      Scope s = MakeCurrent(root);
      t.StartSpan("GET", SpanKind::kClient).End();
    }
    root.End();
    p.Shutdown(5s);
  }
  auto args = FreePorts();
  args.insert(args.end(), {"--load", file});
  Child c(args);
  Ports p;
  ASSERT_TRUE(ParseAddressLine(c.FirstLine(), &p));
  auto t = Get(p.ui, "/api/traces/" + id);
  ASSERT_EQ(t.status, 200) << t.body;
  ASSERT_EQ(t.json["spans"].size(), 2u);
  EXPECT_EQ(t.json["spans"][0]["name"], "GET /fetch-external");
  EXPECT_EQ(t.json["spans"][1]["parentSpanId"], t.json["spans"][0]["spanId"]);
  EXPECT_EQ(c.Stop(), 0);

  // A bad line: one error naming the file and line.
  FILE* f = fopen(file.c_str(), "a");
  fputs("{not json\n", f);
  fclose(f);
  Child bad(args);
  EXPECT_EQ(bad.Wait(10s), 1);
  EXPECT_NE(bad.Stderr().find(file + ":3:"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Cli, HelpAndUsageErrors) {
  Child help({"--help"});
  EXPECT_NE(help.FirstLine().find("usage: otelweb-view"), std::string::npos);
  EXPECT_EQ(help.Wait(5s), 0);
  Child unknown({"--nope"});
  EXPECT_EQ(unknown.Wait(5s), 2);
  EXPECT_NE(unknown.Stderr().find("unknown option --nope"), std::string::npos);
  Child port({"--ui-port", "70000"});
  EXPECT_EQ(port.Wait(5s), 2);
  EXPECT_NE(port.Stderr().find("--ui-port 70000"), std::string::npos);
  Child db({"--db", "/nonexistent-dir/x.db", "--ui-port", "0", "--grpc-port", "0", "--http-port", "0"});
  EXPECT_EQ(db.Wait(5s), 1);
  EXPECT_NE(db.Stderr().find("cannot open the database /nonexistent-dir/x.db"), std::string::npos);
}

}  // namespace
}  // namespace otelweb::view
