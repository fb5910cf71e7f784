// W3C Trace Context Level 2 end to end: the specification's examples are sent
// to a TracedServer (cpp-httplib), whose handler calls a plain backend once
// through TracedClient and once through otelweb::curl::Easy; the backend reads
// what reaches it on the wire (a raw socket, no HTTP library in between).
// Checked: trace id continued, sampled and random flags passed on, reserved
// flag bits cleared, tracestate members kept (Level 2 keys, invalid members
// dropped alone, first of duplicate keys kept).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "otelweb/curl/curl.h"
#include "otelweb/httplib/client.h"
#include "otelweb/httplib/server.h"
#include "otelweb/otelweb.h"
#include "support/wire_backend.h"

namespace otelweb {
namespace {

using Backend = otelweb::testing::WireBackend;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// One traced front service for the whole file: /hop calls the backend twice.
class Hop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TracerProviderOptions o;
    o.sampler = ParentBasedSampler(AlwaysOnSampler());
    o.resource = Resource::Create({});
    SetTracerProvider(std::make_shared<TracerProvider>(std::move(o)));
    SetTextMapPropagator(MakePropagators("tracecontext,baggage"));
    curl::Options co;
    co.excluded_urls = "";
    curl::Instrument(co);
    backend_ = new Backend();
    front_ = new httplib::TracedServer();
    front_->Get("/hop", [](const ::httplib::Request&, ::httplib::Response& res) {
      httplib::TracedClient cli("127.0.0.1", backend_->port());
      cli.set_read_timeout(std::chrono::seconds(5));
      auto r = cli.Get("/via-httplib");
      curl::Easy e;
      e.setopt(CURLOPT_URL, backend_->Url("/via-curl"));
      e.setopt(CURLOPT_NOSIGNAL, 1L);
      e.setopt(CURLOPT_TIMEOUT_MS, 5000L);
      e.setopt(CURLOPT_WRITEFUNCTION, &Discard);
      CURLcode rc = e.perform();
      res.set_content((r && r->status == 200 && rc == CURLE_OK) ? "ok" : "failed", "text/plain");
    });
    port_ = front_->bind_to_any_port("127.0.0.1");
    thread_ = new std::thread([] { front_->listen_after_bind(); });
    for (int i = 0; i < 5000 && !front_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  static void TearDownTestSuite() {
    front_->stop();
    thread_->join();
    delete thread_;
    delete front_;
    delete backend_;
    curl::Uninstrument();
    SetTracerProvider(nullptr);
  }

  // Sends GET /hop with `headers` exactly as given (a raw socket), returns the
  // answer body's first line; the backend then holds two more requests.
  static std::string Send(const HeaderList& headers) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return "connect failed";
    }
    std::string req = "GET /hop HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string answer;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
    ::close(fd);
    size_t body = answer.find("\r\n\r\n");
    return body == std::string::npos ? answer : answer.substr(body + 4);
  }

  // The traceparent and tracestate the backend saw on both calls of the last
  // hop (httplib first, then curl); both must agree.
  struct Seen {
    std::string traceparent;
    std::vector<std::string> tracestate;
  };
  static Seen Hopped(const HeaderList& headers) {
    size_t before = backend_->requests().size();
    EXPECT_EQ(Send(headers), "ok");
    EXPECT_EQ(backend_->requests().size(), before + 2);
    Seen via_httplib{}, via_curl{};
    auto tp1 = backend_->Values(before, "traceparent");
    auto tp2 = backend_->Values(before + 1, "traceparent");
    EXPECT_EQ(tp1.size(), 1u);
    EXPECT_EQ(tp2.size(), 1u);
    if (tp1.size() == 1) via_httplib.traceparent = tp1[0];
    if (tp2.size() == 1) via_curl.traceparent = tp2[0];
    via_httplib.tracestate = backend_->Values(before, "tracestate");
    via_curl.tracestate = backend_->Values(before + 1, "tracestate");
    // Same trace and flags downstream on both clients (different span ids).
    EXPECT_EQ(via_httplib.traceparent.substr(0, 35), via_curl.traceparent.substr(0, 35));
    EXPECT_EQ(via_httplib.traceparent.substr(52), via_curl.traceparent.substr(52));
    EXPECT_EQ(via_httplib.tracestate, via_curl.tracestate);
    return via_httplib;
  }

  static inline Backend* backend_ = nullptr;
  static inline httplib::TracedServer* front_ = nullptr;
  static inline std::thread* thread_ = nullptr;
  static inline int port_ = 0;
};

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";

TEST_F(Hop, SpecExampleSampledContinuesTheTraceWithANewParentId) {
  Seen s = Hopped({{"traceparent", std::string("00-") + kTrace + "-00f067aa0ba902b7-01"},
                   {"tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}});
  ASSERT_EQ(s.traceparent.size(), 55u) << s.traceparent;
  EXPECT_EQ(s.traceparent.substr(0, 36), std::string("00-") + kTrace + "-");
  EXPECT_NE(s.traceparent.substr(36, 16), "00f067aa0ba902b7");
  EXPECT_EQ(s.traceparent.substr(53), "01");  // the caller did not claim a random id
  EXPECT_EQ(s.tracestate, std::vector<std::string>{"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"});
}

TEST_F(Hop, RandomFlagPassesThroughAndReservedBitsAreCleared) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {{"03", "03"}, {"02", "02"}, {"ff", "03"}, {"fd", "01"}, {"05", "01"}};
  for (const Case& c : cases) {
    Seen s = Hopped({{"traceparent", std::string("00-") + kTrace + "-00f067aa0ba902b7-" + c.in}});
    EXPECT_EQ(s.traceparent.substr(0, 36), std::string("00-") + kTrace + "-") << c.in;
    EXPECT_EQ(s.traceparent.substr(53), c.out) << c.in;
  }
}

TEST_F(Hop, NewTracesCarryTheRandomFlag) {
  Seen s = Hopped({});
  ASSERT_EQ(s.traceparent.size(), 55u);
  EXPECT_NE(s.traceparent.substr(3, 32), kTrace);
  EXPECT_EQ(s.traceparent.substr(53), "03");  // sampled (parent-based, root always on) + random
  EXPECT_TRUE(s.tracestate.empty());
}

TEST_F(Hop, TracestateLevel2KeysInvalidMembersAndDuplicates) {
  const std::string tp = std::string("00-") + kTrace + "-00f067aa0ba902b7-01";
  // '@' anywhere after the first character is a valid key character now.
  EXPECT_EQ(Hopped({{"traceparent", tp}, {"tracestate", "foo@=1,foo@@bar=2,0day@x/y*z=3"}}).tracestate,
            std::vector<std::string>{"foo@=1,foo@@bar=2,0day@x/y*z=3"});
  // Invalid members go alone; the rest keeps its order.
  EXPECT_EQ(Hopped({{"traceparent", tp}, {"tracestate", "@bad=1,good=2,BAD=3,fine=4,k.x=5"}}).tracestate,
            std::vector<std::string>{"good=2,fine=4"});
  // Duplicates: the first occurrence, across header lines too.
  EXPECT_EQ(Hopped({{"traceparent", tp}, {"tracestate", "foo=1,bar=2"}, {"tracestate", "foo=2,baz=3"}})
                .tracestate,
            std::vector<std::string>{"foo=1,bar=2,baz=3"});
  // Without a valid traceparent, tracestate is not used.
  Seen s = Hopped({{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
                   {"tracestate", "foo=1"}});
  EXPECT_TRUE(s.tracestate.empty());
  EXPECT_NE(s.traceparent.substr(3, 32), std::string(32, '0'));
}

}  // namespace
}  // namespace otelweb
