// Hostile header blocks on a real socket (issue 12): what a request's headers
// cost and weigh in a traced cpp-httplib server is bounded. Costs are compared
// with the same request sent to a server without header capture, in the same
// run (process CPU time).
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "otelweb/httplib/server.h"
#include "support/http_test_support.h"

namespace otelweb::httplib {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)

class Running {
 public:
  explicit Running(::httplib::Server& s) : s_(s) {
    port_ = s_.bind_to_any_port("127.0.0.1");
    t_ = std::thread([this] { s_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !s_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~Running() {
    s_.stop();
    t_.join();
  }
  int port() const { return port_; }

 private:
  ::httplib::Server& s_;
  int port_ = 0;
  std::thread t_;
};

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

ServerOptions Opts(const MemoryTracing& t, std::vector<std::string> capture) {
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  o.capture_request_headers = std::move(capture);
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  return o;
}

std::string Request(const std::string& lines) {
  return "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + lines + "\r\n";
}

TEST(HttplibHostileHeaders, CaptureOfEveryHeaderCostsLinearTime) {
  // 40 000 distinct header names, 0.7 MB: quadratic capture took seconds.
  std::string lines;
  for (int i = 0; i < 40000; ++i) lines += "x-h" + std::to_string(i) + ": v\r\n";
  const std::string req = Request(lines);
  MemoryTracing t;
  TracedServer plain(Opts(t, {}));
  TracedServer capturing(Opts(t, {".*"}));
  plain.Get("/r", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  capturing.Get("/r", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  Running a(plain), b(capturing);
  auto cost = [&](int port) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      double t0 = ProcessCpuSeconds();
      std::string r = RawRequest(port, req, true);
      best = std::min(best, ProcessCpuSeconds() - t0);
      EXPECT_NE(r.find(" 200 "), std::string::npos);
    }
    return best;
  };
  double without = cost(a.port()), with = cost(b.port());
  EXPECT_LT(with, 3 * without + 0.05) << "without capture " << without << " s, with " << with;
  auto spans = t.Exactly(6);
  size_t captured = 0;
  for (const SpanData* s : spans) captured = std::max(captured, s->attribute_count());
  EXPECT_LE(captured, 128u);
}

TEST(HttplibHostileHeaders, RepeatedLinesMakeBoundedAttributes) {
  std::string lines;
  for (int i = 0; i < 20000; ++i) lines += "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n";
  for (int i = 0; i < 20000; ++i) lines += "X-Tenant: acme\r\n";
  MemoryTracing t;
  TracedServer app(Opts(t, {"x-tenant"}));
  app.Get("/r", [](const ::httplib::Request&, ::httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  Running run(app);
  std::string r = RawRequest(run.port(), Request(lines), true);
  EXPECT_NE(r.find(" 200 "), std::string::npos);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_LE(StrAttr(spans[0], "user_agent.original").size(), 8192u);
  EXPECT_GT(StrAttr(spans[0], "user_agent.original").size(), 8000u);
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-tenant").size(), 64u);
}

}  // namespace
}  // namespace otelweb::httplib
