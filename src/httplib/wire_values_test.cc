// Header values reach the propagators and span attributes as they were sent
// (issue 10, part 2), on real sockets: a raw-socket client writes values with
// percent-escapes, control characters and spoofed socket pseudo-headers.
// TracedServer reads the header block off the wire (its own connection loop);
// an Instrument()ed plain httplib::Server and TracedClient's response headers
// only get cpp-httplib's decoded values and use the documented fallback.
#include "support/wire_values.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "httplib/wire_stream.h"
#include "otelweb/httplib/client.h"
#include "otelweb/httplib/server.h"
#include "otelweb/propagation.h"
#include "support/http_test_support.h"
#include "support/wire_backend.h"

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
  ~Running() { Stop(); }
  void Stop() {
    if (!t_.joinable()) return;
    s_.stop();
    t_.join();
  }
  int port() const { return port_; }

 private:
  ::httplib::Server& s_;
  int port_ = 0;
  std::thread t_;
};

ServerOptions Opts(const MemoryTracing& t) {
  ServerOptions o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  o.capture_request_headers =
      std::vector<std::string>{"x-.*", "remote_addr", "remote_port", "local_addr", "local_port"};
  o.capture_response_headers = std::vector<std::string>{};
  o.sanitize_fields = std::vector<std::string>{};
  return o;
}

void AnswerReached(const ::httplib::Request&, ::httplib::Response& res) {
  res.set_content(Reached(), "text/plain");
}

// A connected raw socket with bounded reads.
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(std::string_view b) {
    size_t off = 0;
    while (off < b.size()) {
      ssize_t w = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL);
      if (w <= 0) return;
      off += static_cast<size_t>(w);
    }
  }
  // Reads until `until` appears `times` times, the peer closes, or the
  // deadline passes. closed() tells whether the peer closed.
  std::string ReadUntil(std::string_view until, int times = 1, int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto count = [&] {
      int n = 0;
      for (size_t p = got_.find(until); p != std::string::npos; p = got_.find(until, p + 1)) ++n;
      return n;
    };
    while (count() < times && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) {
        closed_ = true;
        break;
      }
      got_.append(buf, static_cast<size_t>(r));
    }
    return got_;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string got_;
};

TEST(HttplibWireValues, TracedServerGivesPropagatorsAndCaptureTheValuesAsSent) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  std::string app_sees;
  app.Get("/r", [&](const ::httplib::Request& req, ::httplib::Response& res) {
    app_sees = req.get_header_value("X-Pct");
    AnswerReached(req, res);
  });
  Running run(app);
  std::string r = RawRequest(run.port(), WireValueRequest("/r"), /*read_all=*/true);
  EXPECT_EQ(BodyOf(r), kReachedRaw) << r;
  EXPECT_EQ(app_sees, "a b");  // handlers still get httplib's decoded values
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(ArrAttr(s, "http.request.header.x-enc"), (std::vector<std::string>{"a%0D%0Ab"}));
  EXPECT_EQ(ArrAttr(s, "http.request.header.x-pct"), (std::vector<std::string>{"a%20b"}));
  EXPECT_FALSE(HasAttr(s, "http.request.header.x-ctl"));  // a raw control character
  // Neither httplib's socket-address entries nor a client's headers of the
  // same names (any case) are captured.
  EXPECT_FALSE(HasAttr(s, "http.request.header.remote_addr"));
  EXPECT_FALSE(HasAttr(s, "http.request.header.remote_port"));
  EXPECT_FALSE(HasAttr(s, "http.request.header.local_addr"));
  EXPECT_FALSE(HasAttr(s, "http.request.header.local_port"));
  EXPECT_EQ(StrAttr(s, "client.address"), "127.0.0.1");
}

TEST(HttplibWireValues, InstrumentedPlainServerUsesTheDecodedFallback) {
  MemoryTracing t;
  ::httplib::Server plain;
  Instrument(plain, Opts(t));
  Get(plain, "/r", &AnswerReached);
  Running run(plain);
  std::string r = RawRequest(run.port(), WireValueRequest("/r"), /*read_all=*/true);
  EXPECT_EQ(BodyOf(r), kReachedDecoded) << r;
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  // "a%0D%0Ab" arrived as "a\r\nb": left out. "a%20b" arrived as "a b": the
  // residual limitation (nothing tells it from a value sent with a space).
  EXPECT_FALSE(HasAttr(s, "http.request.header.x-enc"));
  EXPECT_EQ(ArrAttr(s, "http.request.header.x-pct"), (std::vector<std::string>{"a b"}));
  EXPECT_FALSE(HasAttr(s, "http.request.header.x-ctl"));
  EXPECT_FALSE(HasAttr(s, "http.request.header.remote_addr"));
  EXPECT_FALSE(HasAttr(s, "http.request.header.remote_port"));
}

std::string TraceparentRequest(std::string_view traceparent) {
  return "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\ntraceparent: " +
         std::string(traceparent) + "\r\n\r\n";
}

TEST(HttplibWireValues, PercentEncodedTraceparent) {
  const std::string encoded = "00-%30af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string spaced = "%2000-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  MemoryTracing t;
  TracedServer traced(Opts(t));
  traced.Get("/r", &AnswerReached);
  ::httplib::Server plain;
  Instrument(plain, Opts(t));
  Get(plain, "/r", &AnswerReached);
  Running a(traced);
  Running b(plain);
  // As sent, neither is a valid traceparent.
  EXPECT_EQ(BodyOf(RawRequest(a.port(), TraceparentRequest(encoded), true)), "trace=new ts= bg=");
  EXPECT_EQ(BodyOf(RawRequest(a.port(), TraceparentRequest(spaced), true)), "trace=new ts= bg=");
  // Decoded: whitespace at an end shows decoding (httplib trims what was
  // sent), so the fallback refuses it ...
  EXPECT_EQ(BodyOf(RawRequest(b.port(), TraceparentRequest(spaced), true)), "trace=new ts= bg=");
  // ... but an escaped hex digit decodes to a valid traceparent: the
  // documented residual limitation of Instrument()ed plain servers.
  EXPECT_EQ(BodyOf(RawRequest(b.port(), TraceparentRequest(encoded), true)),
            "trace=continued ts= bg=");
}

std::string KeepAliveRequest(std::string_view path, std::string_view baggage) {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nbaggage: " + std::string(baggage) + "\r\n\r\n";
}

TEST(HttplibWireValues, TracedServerLoopPipelinedRequestsAndKeepAliveMaxCount) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/r", &AnswerReached);
  app.set_keep_alive_max_count(2);
  Running run(app);
  Conn c(run.port());
  ASSERT_TRUE(c.connected());
  // Three requests in one write: each gets its own values; the second is the
  // last one the connection serves (max count 2), and says so.
  c.Send(KeepAliveRequest("/r", "n=1%2C1") + KeepAliveRequest("/r", "n=2%2C2") +
         KeepAliveRequest("/r", "n=3"));
  std::string got = c.ReadUntil("bg=n:", 3, 3000);
  EXPECT_TRUE(c.closed());
  EXPECT_NE(got.find("bg=n:1,1|"), std::string::npos) << got;
  EXPECT_NE(got.find("bg=n:2,2|"), std::string::npos) << got;
  EXPECT_EQ(got.find("bg=n:3|"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_EQ(t.Exactly(2).size(), 2u);
}

// The record is taken from the read buffer in pieces (each time the buffer
// is refilled, and when the block is parsed): a header block that arrives in
// many small writes, then a second request on the same connection, both give
// the instrumentation the values as sent.
TEST(HttplibWireValues, HeaderBlockArrivingInPiecesIsRecordedWhole) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/r", &AnswerReached);
  Running run(app);
  Conn c(run.port());
  ASSERT_TRUE(c.connected());
  std::string first = WireValueRequest("/r");
  first.replace(first.find("Connection: close"), 17, "Connection: keep-alive");
  for (size_t off = 0; off < first.size(); off += 5) {
    c.Send(std::string_view(first).substr(off, 5));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // separate recv calls
  }
  std::string got = c.ReadUntil(kReachedRaw, 1, 3000);
  EXPECT_NE(got.find(kReachedRaw), std::string::npos) << got;
  c.Send(KeepAliveRequest("/r", "n=2%2C2"));
  got = c.ReadUntil("bg=n:", 1, 3000);
  EXPECT_NE(got.find("bg=n:2,2|"), std::string::npos) << got;
  auto spans = t.Exactly(2);
  ASSERT_EQ(spans.size(), 2u);
  // The values as sent, not httplib's decoded ones (see the first test).
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-enc"), (std::vector<std::string>{"a%0D%0Ab"}));
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-pct"), (std::vector<std::string>{"a%20b"}));
}

TEST(HttplibWireValues, TracedServerLoopExpectContinueAndBody) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Post("/p", [](const ::httplib::Request& req, ::httplib::Response& res) {
    res.set_content(req.body + " " + Reached(), "text/plain");
  });
  Running run(app);
  Conn c(run.port());
  ASSERT_TRUE(c.connected());
  c.Send(
      "POST /p HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
      "baggage: k=a%2Cb\r\nConnection: close\r\n\r\n");
  std::string got = c.ReadUntil("100 Continue");
  ASSERT_NE(got.find("HTTP/1.1 100 Continue\r\n\r\n"), std::string::npos) << got;
  c.Send("hello");
  got = c.ReadUntil("bg=k:a,b|");
  EXPECT_NE(got.find("hello trace=new ts= bg=k:a,b|"), std::string::npos) << got;
}

TEST(HttplibWireValues, TracedServerLoopTimeoutsAndStop) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/r", &AnswerReached);
  app.set_read_timeout(1);
  app.set_keep_alive_timeout(30);
  Running run(app);
  {
    // A header block that never ends: the read timeout (1 s) ends the wait
    // with 400, as httplib's own loop does.
    Conn c(run.port());
    c.Send("GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n");
    auto t0 = std::chrono::steady_clock::now();
    std::string got = c.ReadUntil(" 400 ", 1, 5000);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(4000));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
    EXPECT_NE(got.find(" 400 "), std::string::npos) << got;
  }
  // An idle keep-alive connection does not hold stop() for the keep-alive
  // timeout (30 s here).
  Conn idle(run.port());
  idle.Send(KeepAliveRequest("/r", "k=1"));
  EXPECT_NE(idle.ReadUntil("bg=k:1|").find("bg=k:1|"), std::string::npos);
  auto t0 = std::chrono::steady_clock::now();
  run.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
}

TEST(HttplibWireValues, OversizedHeaderBlockFallsBackToTheDecodedRules) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/r", &AnswerReached);
  Running run(app);
  std::string req = "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (int i = 0; i < 10; ++i)
    req += "X-Pad-" + std::to_string(i) + ": " + std::string(7000, 'p') + "\r\n";
  req += "baggage: comma=a%2Cb,sp=a%20b\r\n\r\n";
  // Larger than the recorded bound (64 KiB): served, with the fallback rules.
  EXPECT_EQ(BodyOf(RawRequest(run.port(), req, true)), "trace=new ts= bg=sp:a b|");
}

TEST(HttplibWireValues, RawBlockIsSplitWithHttplibsLineRules) {
  std::vector<std::pair<std::string_view, std::string_view>> lines;
  ASSERT_TRUE(detail::ParseRawHeaderBlock(
      "GET / HTTP/1.1\r\nA: 1\r\nNoColon\r\nEmpty:\r\nEmptySp: \t \r\nB :  v%20w \t\r\n"
      "Lf: 1\nC:x\r\n\r\nbody",
      &lines));
  std::vector<std::pair<std::string, std::string>> got(lines.begin(), lines.end());
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"A", "1"}, {"B ", "v%20w"}, {"C", "x"}}));
  EXPECT_FALSE(detail::ParseRawHeaderBlock("GET / HTTP/1.1\r\nA: 1\r\n", &lines));
  EXPECT_FALSE(detail::ParseRawHeaderBlock("", &lines));
}

// RawHeadersReader::Get is a direct pass over the lines; it must give what
// the base class's ForEach scan gives, key for key.
TEST(HttplibWireValues, RawHeadersGetMatchesTheForEachScan) {
  const std::string big(http::ProcessHeaderLimits().max_joined_bytes - 3, 'x');
  detail::RawHeaders raw;
  raw.usable = true;
  raw.lines = {{"Host", "example.com:8080"}, {"tracestate", "a=1"}, {"TraceState", "b=2"},
               {"X-Big", "yy"},              {"x-big", big},       {"x-big", "zz"},
               {"Remote_Addr", "10.0.0.1"},   {"traceparent", "tp"}, {"T", "short"},
               {"user-agentx", "no"},         {"User-Agent", "wrk"}, {"Empty", ""}};
  detail::RawHeadersReader reader(raw);
  const http::HeaderReader& base = reader;
  for (std::string_view key : {"host", "tracestate", "x-big", "remote_addr", "REMOTE_ADDR",
                               "traceparent", "t", "user-agent", "user-agentx", "empty",
                               "missing", "", "Host", "TRACESTATE"}) {
    std::string fast_scratch, scan_scratch;
    const std::string fast(reader.Get(key, fast_scratch));
    const std::string scan(base.HeaderReader::Get(key, scan_scratch));
    EXPECT_EQ(fast, scan) << key;
  }
  std::string scratch;
  EXPECT_EQ(reader.Get("tracestate", scratch), "a=1,b=2");
  EXPECT_EQ(reader.Get("x-big", scratch), "yy," + big);  // "zz" passes the join bound
  EXPECT_EQ(reader.Get("remote_addr", scratch), "");
  EXPECT_EQ(reader.Get("user-agent", scratch), "wrk");
}

TEST(HttplibWireValues, OddHeaderLinesKeepTheRawBlockInStepWithHttplib) {
  MemoryTracing t;
  TracedServer app(Opts(t));
  app.Get("/r", &AnswerReached);
  Running run(app);
  // Lines httplib skips (no colon, no value, bare LF) must be skipped by the
  // raw split too, or the block would not match and the fallback would run:
  // the raw baggage value "a,b" shows the raw path was used.
  std::string r = RawRequest(run.port(),
                             "GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                             "NoColon\r\nX-Empty:\r\nX-Lf: 1\nX-Sp :  v \r\n"
                             "baggage: comma=a%2Cb\r\nbaggage: more=1\r\n\r\n",
                             true);
  EXPECT_EQ(BodyOf(r), "trace=new ts= bg=comma:a,b|more:1|") << r;
}

TEST(HttplibWireValues, TracedClientResponseHeadersAreDecodedAndFiltered) {
  MemoryTracing t;
  WireBackend backend(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nX-Enc: a%0D%0Ab\r\n"
      "X-Pct: a%20b\r\nX-Ctl: a\x01"
      "b\r\nX-Plain: v\r\n\r\nok");
  ClientOptions o;
  o.tracer_provider = t.provider;
  o.capture_response_headers = std::vector<std::string>{"x-.*"};
  TracedClient cli("127.0.0.1", backend.port(), o);
  auto r = cli.Get("/");
  ASSERT_TRUE(r);
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  const SpanData* s = spans[0];
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-plain"), (std::vector<std::string>{"v"}));
  // httplib's client decoded "a%0D%0Ab" into "a\r\nb": left out; "a%20b"
  // arrives as "a b" (the residual limitation); a raw control character: out.
  EXPECT_FALSE(HasAttr(s, "http.response.header.x-enc"));
  EXPECT_EQ(ArrAttr(s, "http.response.header.x-pct"), (std::vector<std::string>{"a b"}));
  EXPECT_FALSE(HasAttr(s, "http.response.header.x-ctl"));
}

}  // namespace
}  // namespace otelweb::httplib
