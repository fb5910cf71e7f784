// libcurl instrumentation on real sockets: a plain httplib::Server on
// 127.0.0.1 (ephemeral port) records what it received; otelweb::curl::Easy and
// Multi call it. Every transfer has a timeout except those testing the trap
// (they go to a route that answers at once).
#include "otelweb/curl/curl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <thread>

#include "otelweb/diagnostics.h"
#include "otelweb/otelweb.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/testing/installed_tracing.h"
#include "support/http_test_support.h"
#include "support/manual_metrics.h"
#include "support/peer_server.h"

namespace otelweb::curl {
namespace {

// MemoryTracing, span readers (StrAttr, IntAttr, ...), DiagnosticsCapture and
// the support helpers: otelweb::testing (include/otelweb/testing/, tests/support/).
using namespace otelweb::testing;  // NOLINT(build/namespaces)

using Peer = otelweb::testing::PeerServer;

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }
size_t Append(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

// Instruments with an in-memory provider for one test.
struct Traced {
  MemoryTracing t;
  explicit Traced(Options o = {}) {
    o.tracer_provider = t.provider;
    if (!o.excluded_urls) o.excluded_urls = "";
    if (!o.default_timeout) o.default_timeout = std::chrono::milliseconds(0);
    Instrument(std::move(o));
  }
  ~Traced() { Instrument(); }
};

Easy Request(const std::string& url, long timeout_ms = 5000) {
  Easy e;
  e.setopt(CURLOPT_URL, url);
  e.setopt(CURLOPT_NOSIGNAL, 1L);
  e.setopt(CURLOPT_WRITEFUNCTION, &Discard);
  if (timeout_ms > 0) e.setopt(CURLOPT_TIMEOUT_MS, timeout_ms);
  return e;
}

const SpanData* Only(const MemoryTracing& t) {
  auto v = t.store->spans();
  return v.size() == 1 ? v[0] : nullptr;
}

TEST(Curl, EasyPerformIsChildOfCurrentSpanAndKeepsUserHeaders) {
  Traced tr;
  Peer peer;
  curl_slist* user = curl_slist_append(nullptr, "X-User: u");
  user = curl_slist_append(user, "Accept: text/plain");
  Easy e = Request(peer.Url("/ok?color=blue"));
  std::string body;
  e.setopt(CURLOPT_WRITEFUNCTION, &Append);
  e.setopt(CURLOPT_WRITEDATA, &body);
  e.setopt(CURLOPT_HTTPHEADER, user);
  std::string parent_id, trace_id;
  {
    Span parent = tr.t.provider->GetTracer("test").StartSpan("parent");
    parent_id = parent.GetContext().span_id().ToHex();
    trace_id = parent.GetContext().trace_id().ToHex();
    Scope scope = MakeCurrent(parent);
    ASSERT_EQ(e.perform(), CURLE_OK);
  }
  EXPECT_EQ(body, "ok");
  // The user's list is untouched.
  size_t n = 0;
  for (curl_slist* p = user; p != nullptr; p = p->next) ++n;
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(peer.Header("X-User"), "u");
  EXPECT_EQ(peer.Header("Accept"), "text/plain");

  const SpanData* s = nullptr;
  for (const SpanData* x : tr.t.store->spans()) {
    if (x->kind() == SpanKind::kClient) s = x;
  }
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name(), "GET");
  EXPECT_EQ(s->scope().name, "otelweb.curl");
  EXPECT_EQ(s->parent_span_id().ToHex(), parent_id);
  EXPECT_EQ(s->trace_id().ToHex(), trace_id);
  EXPECT_EQ(peer.Header("traceparent"), "00-" + trace_id + "-" + s->span_id().ToHex() + "-03");  // sampled + random
  EXPECT_EQ(StrAttr(s, "http.request.method"), "GET");
  EXPECT_EQ(StrAttr(s, "server.address"), "127.0.0.1");
  EXPECT_EQ(IntAttr(s, "server.port"), peer.port());
  EXPECT_EQ(StrAttr(s, "url.full"), peer.Url("/ok?color=blue"));
  EXPECT_EQ(IntAttr(s, "http.response.status_code"), 200);
  EXPECT_EQ(StrAttr(s, "network.protocol.version"), "1.1");
  EXPECT_EQ(StrAttr(s, "network.peer.address"), "127.0.0.1");
  EXPECT_EQ(IntAttr(s, "network.peer.port"), peer.port());
  EXPECT_EQ(s->status(), StatusCode::kUnset);
  EXPECT_FALSE(HasAttr(s, "otelweb.curl.timeout_missing"));
  EXPECT_GE(IntAttr(s, "curl.time.total_us"), IntAttr(s, "curl.time.first_byte_us"));
  size_t idx = 0;
  ASSERT_NE(otelweb::testing::EventNamed(s, "curl.first_byte", &idx), nullptr);
  EXPECT_GE(s->event_time_ns(idx), s->start_ns());
  EXPECT_LE(s->event_time_ns(idx), s->end_ns() + 1000000);

  // The handle's header list is the user's again: an untraced request sends
  // the user's headers and nothing of ours.
  Uninstrument();
  ASSERT_EQ(e.perform(), CURLE_OK);
  EXPECT_EQ(peer.Header("X-User"), "u");
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  curl_slist_free_all(user);
}

TEST(Curl, BaggageIsInjectedAndUserTraceparentWins) {
  Traced tr;
  Peer peer;
  {
    Scope scope(Context::Current().WithBaggage(Baggage().Set("user.id", "42")));
    Easy e = Request(peer.Url("/ok"));
    ASSERT_EQ(e.perform(), CURLE_OK);
    EXPECT_EQ(peer.Header("baggage"), "user.id=42");
  }
  const std::string mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  curl_slist* user = curl_slist_append(nullptr, ("TraceParent: " + mine).c_str());
  Easy e = Request(peer.Url("/ok"));
  e.setopt(CURLOPT_HTTPHEADER, user);
  ASSERT_EQ(e.perform(), CURLE_OK);
  EXPECT_EQ(peer.HeaderCount("traceparent"), 1u);
  EXPECT_EQ(peer.Header("traceparent"), mine);
  EXPECT_EQ(peer.Header("tracestate"), "<absent>");
  EXPECT_EQ(tr.t.store->size(), 2u);
  curl_slist_free_all(user);
}

TEST(Curl, ErrorStatusFrom400) {
  Traced tr;
  Peer peer;
  Easy a = Request(peer.Url("/missing"));
  ASSERT_EQ(a.perform(), CURLE_OK);
  Easy b = Request(peer.Url("/boom"));
  ASSERT_EQ(b.perform(), CURLE_OK);
  auto spans = tr.t.store->spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(StrAttr(spans[0], "error.type"), "404");
  EXPECT_EQ(spans[0]->status(), StatusCode::kError);
  EXPECT_EQ(IntAttr(spans[1], "http.response.status_code"), 500);
  EXPECT_EQ(StrAttr(spans[1], "error.type"), "500");
}

TEST(Curl, ConnectionRefused) {
  Traced tr;
  int port = ClosedLoopbackPort();
  Easy e = Request("http://127.0.0.1:" + std::to_string(port) + "/ok");
  EXPECT_EQ(e.perform(), CURLE_COULDNT_CONNECT);
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(s, "error.type"), "CURLE_COULDNT_CONNECT");
  EXPECT_FALSE(s->status_description().empty());
  EXPECT_FALSE(HasAttr(s, "http.response.status_code"));
}

// TLS to a server that speaks plain HTTP: the handshake fails.
TEST(Curl, TlsHandshakeFailure) {
  Traced tr;
  Peer peer;
  Easy e = Request("https://127.0.0.1:" + std::to_string(peer.port()) + "/ok", 3000);
  CURLcode rc = e.perform();
  EXPECT_EQ(rc, CURLE_SSL_CONNECT_ERROR);
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(s, "error.type"), CodeName(rc));
  EXPECT_EQ(IntAttr(s, "server.port"), peer.port());
}

TEST(Curl, Timeout) {
  Traced tr;
  Peer peer;
  Easy e = Request(peer.Url("/slow"), 150);
  EXPECT_EQ(e.perform(), CURLE_OPERATION_TIMEDOUT);
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status(), StatusCode::kError);
  EXPECT_EQ(StrAttr(s, "error.type"), "CURLE_OPERATION_TIMEDOUT");
  EXPECT_LT(s->end_ns() - s->start_ns(), int64_t(700) * 1000 * 1000);
}

TEST(Curl, MissingTimeoutIsFlaggedWithOneWarningPerHost) {
  DiagnosticsCapture diag;
  Traced tr;
  Peer peer;
  for (int i = 0; i < 3; ++i) {
    Easy e = Request(peer.Url("/ok"), /*timeout_ms=*/0);
    ASSERT_EQ(e.perform(), CURLE_OK);
  }
  auto spans = tr.t.store->spans();
  ASSERT_EQ(spans.size(), 3u);
  for (const SpanData* s : spans) {
    AttributeView v;
    ASSERT_TRUE(s->FindAttribute("otelweb.curl.timeout_missing", &v));
    EXPECT_TRUE(v.as_bool());
  }
  EXPECT_EQ(diag.Count("no timeout"), 1u);
  EXPECT_EQ(diag.Count("'127.0.0.1'"), 1u);
  // A request with a timeout is not flagged.
  Easy ok = Request(peer.Url("/ok"), 2000);
  ASSERT_EQ(ok.perform(), CURLE_OK);
  EXPECT_FALSE(HasAttr(tr.t.store->spans().back(), "otelweb.curl.timeout_missing"));
}

TEST(Curl, DefaultTimeoutAppliesToRequestsWithout) {
  DiagnosticsCapture diag;
  Options o;
  o.default_timeout = std::chrono::milliseconds(150);
  Traced tr(std::move(o));
  Peer peer;
  Easy e = Request(peer.Url("/slow"), /*timeout_ms=*/0);
  EXPECT_EQ(e.perform(), CURLE_OPERATION_TIMEDOUT);
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(IntAttr(s, "otelweb.curl.default_timeout_ms"), 150);
  EXPECT_FALSE(HasAttr(s, "otelweb.curl.timeout_missing"));
  EXPECT_EQ(StrAttr(s, "error.type"), "CURLE_OPERATION_TIMEDOUT");
  EXPECT_EQ(diag.Count("no timeout"), 0u);
}

TEST(Curl, DefaultTimeoutFromEnvironment) {
  otelweb::testing::ScopedEnv env("OTEL_CPP_CURL_DEFAULT_TIMEOUT_MS", "120");
  MemoryTracing t;
  Options o;
  o.tracer_provider = t.provider;
  o.excluded_urls = "";
  Instrument(std::move(o));
  env.Restore();
  Peer peer;
  Easy e = Request(peer.Url("/slow"), 0);
  EXPECT_EQ(e.perform(), CURLE_OPERATION_TIMEDOUT);
  const SpanData* s = Only(t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(IntAttr(s, "otelweb.curl.default_timeout_ms"), 120);
  Instrument();
}

TEST(Curl, MethodFromOptions) {
  Traced tr;
  Peer peer;
  {
    Easy e = Request(peer.Url("/any"));
    e.setopt(CURLOPT_POSTFIELDS, "a=1");
    ASSERT_EQ(e.perform(), CURLE_OK);
    EXPECT_EQ(peer.method(), "POST");
  }
  {
    Easy e = Request(peer.Url("/any"));
    e.setopt(CURLOPT_CUSTOMREQUEST, "DELETE");
    ASSERT_EQ(e.perform(), CURLE_OK);
  }
  {
    Easy e = Request(peer.Url("/ok"));
    e.setopt(CURLOPT_NOBODY, 1L);
    ASSERT_EQ(e.perform(), CURLE_OK);
  }
  auto spans = tr.t.store->spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0]->name(), "POST");
  EXPECT_EQ(StrAttr(spans[0], "http.request.method"), "POST");
  EXPECT_EQ(spans[1]->name(), "DELETE");
  EXPECT_EQ(spans[2]->name(), "HEAD");
}

TEST(Curl, PostFieldsFromATemporaryStringAreCopied) {
  // libcurl keeps the POSTFIELDS pointer; Easy::setopt's std::string overload
  // must not hand it a pointer into a string that dies before perform().
  Traced tr;
  Peer peer;
  Easy e = Request(peer.Url("/echo"));
  std::string got;
  e.setopt(CURLOPT_WRITEFUNCTION, &Append);
  e.setopt(CURLOPT_WRITEDATA, &got);
  e.setopt(CURLOPT_POSTFIELDS, std::string("payload=") + std::string(5000, 'x') + std::string(1, '\0') + "end");
  std::string clobber(6000, 'y');  // likely to reuse the freed buffer
  ASSERT_EQ(e.perform(), CURLE_OK);
  EXPECT_EQ(got, std::string("payload=") + std::string(5000, 'x') + std::string(1, '\0') + "end");
  EXPECT_EQ(peer.method(), "POST");
  ASSERT_NE(Only(tr.t), nullptr);
  EXPECT_EQ(Only(tr.t)->name(), "POST");
}

TEST(Curl, ATimeoutSetByTheRequestHookWins) {
  Options o;
  o.default_timeout = std::chrono::milliseconds(5000);
  o.request_hook = [](SpanRef, CURL* h) { curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 100L); };
  Traced tr(std::move(o));
  Peer peer;
  Easy e = Request(peer.Url("/slow"), /*timeout_ms=*/0);  // 800 ms answer
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(e.perform(), CURLE_OPERATION_TIMEDOUT);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(700));
}

TEST(Curl, RedirectsAreOneSpanWithResendCount) {
  Traced tr;
  Peer peer;
  Easy e = Request(peer.Url("/redirect"));
  e.setopt(CURLOPT_FOLLOWLOCATION, 1L);
  ASSERT_EQ(e.perform(), CURLE_OK);
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(IntAttr(s, "http.response.status_code"), 200);
  EXPECT_EQ(IntAttr(s, "http.request.resend_count"), 1);
  EXPECT_EQ(StrAttr(s, "url.full"), peer.Url("/redirect"));
  // Our header went with the second hop too.
  EXPECT_EQ(peer.Header("traceparent").substr(36, 16), s->span_id().ToHex());
}

TEST(Curl, ExcludedUrlsAndUninstrument) {
  Options o;
  o.excluded_urls = "/missing";
  Traced tr(std::move(o));
  Peer peer;
  Easy a = Request(peer.Url("/missing"));
  ASSERT_EQ(a.perform(), CURLE_OK);
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  Uninstrument();
  EXPECT_FALSE(IsInstrumented());
  Easy b = Request(peer.Url("/ok"));
  ASSERT_EQ(b.perform(), CURLE_OK);
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  EXPECT_EQ(tr.t.store->size(), 0u);
}

TEST(Curl, ExcludedUrlsFromTheEnvironment) {
  otelweb::testing::ScopedEnv env("OTEL_CPP_CURL_EXCLUDED_URLS", "/missing");
  MemoryTracing t;
  Options o;
  o.tracer_provider = t.provider;
  o.default_timeout = std::chrono::milliseconds(0);
  Instrument(std::move(o));
  Peer peer;
  Easy a = Request(peer.Url("/missing"));
  ASSERT_EQ(a.perform(), CURLE_OK);
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  Easy b = Request(peer.Url("/ok"));
  ASSERT_EQ(b.perform(), CURLE_OK);
  EXPECT_NE(peer.Header("traceparent"), "<absent>");
  EXPECT_EQ(t.store->size(), 1u);
  Instrument();
}

TEST(Curl, HooksRunAndMaySetOptions) {
  Options o;
  int seen_rc = -1;
  o.request_hook = [](SpanRef span, CURL* h) {
    span.SetAttribute("hook.request", true);
    (curl_easy_setopt)(h, CURLOPT_USERAGENT, "hooked-agent");
  };
  o.response_hook = [&](SpanRef span, CURL*, CURLcode rc) {
    seen_rc = rc;
    span.SetAttribute("hook.response", true);
  };
  Traced tr(std::move(o));
  Peer peer;
  Easy e = Request(peer.Url("/ok"));
  ASSERT_EQ(e.perform(), CURLE_OK);
  EXPECT_EQ(seen_rc, CURLE_OK);
  EXPECT_EQ(peer.Header("User-Agent"), "hooked-agent");
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(HasAttr(s, "hook.request"));
  EXPECT_TRUE(HasAttr(s, "hook.response"));
}

TEST(Curl, MultiSpansEndWhenTransfersComplete) {
  Traced tr;
  Peer peer;
  Easy ok = Request(peer.Url("/ok"));
  Easy missing = Request(peer.Url("/missing"));
  Multi multi;
  std::string parent_id;
  {
    Span parent = tr.t.provider->GetTracer("test").StartSpan("parent");
    parent_id = parent.GetContext().span_id().ToHex();
    Scope scope = MakeCurrent(parent);
    ASSERT_EQ(multi.add(ok), CURLM_OK);
    ASSERT_EQ(multi.add(missing), CURLM_OK);
  }
  EXPECT_EQ(tr.t.store->size(), 1u);  // just the parent
  int running = 1;
  int done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done < 2 && std::chrono::steady_clock::now() < deadline) {
    multi.perform(&running);
    int left = 0;
    while (CURLMsg* m = multi.info_read(&left)) {
      if (m->msg != CURLMSG_DONE) continue;
      EXPECT_EQ(m->data.result, CURLE_OK);
      ++done;
      // The span ended before the message was handed out.
      EXPECT_EQ(tr.t.store->size(), size_t(1 + done));
    }
    if (done < 2) multi.poll(50);
  }
  ASSERT_EQ(done, 2);
  multi.remove(ok);
  multi.remove(missing);
  EXPECT_EQ(tr.t.store->size(), 3u);
  std::vector<const SpanData*> clients;
  for (const SpanData* s : tr.t.store->spans()) {
    if (s->kind() == SpanKind::kClient) clients.push_back(s);
  }
  ASSERT_EQ(clients.size(), 2u);
  int errors = 0;
  for (const SpanData* s : clients) {
    EXPECT_EQ(s->parent_span_id().ToHex(), parent_id);
    if (s->status() == StatusCode::kError) {
      ++errors;
      EXPECT_EQ(StrAttr(s, "error.type"), "404");
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_NE(clients[0]->span_id(), clients[1]->span_id());
}

TEST(Curl, MultiRemoveBeforeCompletionIsCancelled) {
  Traced tr;
  Peer peer;
  Easy slow = Request(peer.Url("/slow"));
  {
    Multi multi;
    ASSERT_EQ(multi.add(slow), CURLM_OK);
    int running = 0;
    // Until the request reached the server.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (peer.count() == 0 && std::chrono::steady_clock::now() < deadline) {
      multi.perform(&running);
      multi.poll(20);
    }
    EXPECT_TRUE(slow.in_multi());
  }  // the Multi's destructor removes it
  EXPECT_FALSE(slow.in_multi());
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(StrAttr(s, "error.type"), "cancelled");
  EXPECT_EQ(s->status(), StatusCode::kError);
}

TEST(Curl, AdoptedHandleKeepsOptionsSetBefore) {
  DiagnosticsCapture diag;
  Traced tr;
  Peer peer;
  curl_slist* user = curl_slist_append(nullptr, "X-User: raw");
  CURL* raw = curl_easy_init();
  std::string url = peer.Url("/ok");
  (curl_easy_setopt)(raw, CURLOPT_URL, url.c_str());
  (curl_easy_setopt)(raw, CURLOPT_HTTPHEADER, user);
  (curl_easy_setopt)(raw, CURLOPT_TIMEOUT_MS, 3000L);
  (curl_easy_setopt)(raw, CURLOPT_WRITEFUNCTION, &Discard);
  Easy e(raw);
  ASSERT_EQ(e.perform(), CURLE_OK);
  // Headers set before adoption are not lost; ours are not added (unknown list).
  EXPECT_EQ(peer.Header("X-User"), "raw");
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  const SpanData* s = Only(tr.t);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(StrAttr(s, "url.full"), url);
  EXPECT_FALSE(HasAttr(s, "otelweb.curl.timeout_missing"));
  EXPECT_EQ(diag.Count("adopted"), 1u);
  EXPECT_EQ(diag.Count("otelweb::curl::Perform(h, headers)"), 1u);  // what to do instead
  // Setting the list through setopt makes it known: injection resumes.
  e.setopt(CURLOPT_HTTPHEADER, user);
  ASSERT_EQ(e.perform(), CURLE_OK);
  EXPECT_EQ(peer.Header("X-User"), "raw");
  EXPECT_NE(peer.Header("traceparent"), "<absent>");
  curl_slist_free_all(user);
}

// The one-line change for existing handles: Perform(h) in place of
// curl_easy_perform(h). The caller keeps its handle and its options; with
// the header list given, trace context is injected on a copy.
TEST(Curl, PerformTracesAnExistingHandleInOneLine) {
  Traced tr;
  Peer peer;
  curl_slist* user = curl_slist_append(nullptr, "X-User: mine");
  CURL* raw = curl_easy_init();
  std::string url = peer.Url("/ok");
  (curl_easy_setopt)(raw, CURLOPT_URL, url.c_str());
  (curl_easy_setopt)(raw, CURLOPT_HTTPHEADER, user);
  (curl_easy_setopt)(raw, CURLOPT_TIMEOUT_MS, 3000L);
  (curl_easy_setopt)(raw, CURLOPT_WRITEFUNCTION, &Discard);
  std::string parent_id;
  {
    Span parent = tr.t.provider->GetTracer("test").StartSpan("parent");
    parent_id = parent.GetContext().span_id().ToHex();
    Scope scope = MakeCurrent(parent);
    ASSERT_EQ(Perform(raw), CURLE_OK);
    EXPECT_EQ(peer.Header("X-User"), "mine");
    EXPECT_EQ(peer.Header("traceparent"), "<absent>");  // the list is unknown
    ASSERT_EQ(Perform(raw, user), CURLE_OK);
  }
  // (The warning for Perform(h) is reported once per process; the adopted
  // handle's test counts it.)
  EXPECT_EQ(peer.Header("X-User"), "mine");
  const std::string tp = peer.Header("traceparent");
  ASSERT_NE(tp, "<absent>");
  // Two CLIENT spans, children of `parent`, with the URL and status; the
  // second one is the injected parent id.
  size_t clients = 0;
  std::string injected;
  for (const SpanData* x : tr.t.store->spans()) {
    if (x->kind() != SpanKind::kClient) continue;
    ++clients;
    EXPECT_EQ(x->parent_span_id().ToHex(), parent_id);
    EXPECT_EQ(StrAttr(x, "url.full"), url);
    EXPECT_EQ(IntAttr(x, "http.response.status_code"), 200);
    if (tp.find(x->span_id().ToHex()) != std::string::npos) injected = x->span_id().ToHex();
  }
  EXPECT_EQ(clients, 2u);
  EXPECT_FALSE(injected.empty()) << tp;
  // The handle is still the caller's, with its own list: a plain perform
  // sends the user's headers and nothing of ours.
  ASSERT_EQ((curl_easy_perform)(raw), CURLE_OK);
  EXPECT_EQ(peer.Header("X-User"), "mine");
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  curl_easy_cleanup(raw);
  curl_slist_free_all(user);
}

// An existing curl_multi loop over the application's own CURL* handles,
// traced by changing one call per site (add, info_read, remove, cleanup).
CURLMcode RunMulti(CURLM* m, int* done) {
  int running = 1;
  while (running != 0) {
    CURLMcode rc = curl_multi_perform(m, &running);
    if (rc != CURLM_OK) return rc;
    if (running != 0) curl_multi_poll(m, nullptr, 0, 100, nullptr);
  }
  int left = 0;
  while (CURLMsg* msg = MultiInfoRead(m, &left)) {
    if (msg->msg == CURLMSG_DONE) {
      EXPECT_EQ(msg->data.result, CURLE_OK);
      ++*done;
    }
  }
  return CURLM_OK;
}

CURL* RawHandle(const std::string& url) {
  CURL* h = curl_easy_init();
  (curl_easy_setopt)(h, CURLOPT_URL, url.c_str());
  (curl_easy_setopt)(h, CURLOPT_TIMEOUT_MS, 3000L);
  (curl_easy_setopt)(h, CURLOPT_NOSIGNAL, 1L);
  (curl_easy_setopt)(h, CURLOPT_WRITEFUNCTION, &Discard);
  return h;
}

std::vector<const SpanData*> ClientSpans(const MemoryTracing& t) {
  std::vector<const SpanData*> out;
  for (const SpanData* s : t.store->spans()) {
    if (s->kind() == SpanKind::kClient) out.push_back(s);
  }
  return out;
}

TEST(Curl, MultiWrappersTraceAnExistingMultiLoopInOneLinePerSite) {
  Traced tr;
  Peer peer;
  curl_slist* user = curl_slist_append(nullptr, "X-User: mine");
  CURLM* m = curl_multi_init();
  CURL* a = RawHandle(peer.Url("/ok"));
  (curl_easy_setopt)(a, CURLOPT_HTTPHEADER, user);
  CURL* b = RawHandle(peer.Url("/missing"));
  CURL* plain = RawHandle(peer.Url("/ok"));
  CURL* slow = RawHandle(peer.Url("/slow"));
  std::string parent_id;
  {
    Span parent = tr.t.provider->GetTracer("test").StartSpan("parent");
    parent_id = parent.GetContext().span_id().ToHex();
    Scope scope = MakeCurrent(parent);
    ASSERT_EQ(MultiAdd(m, a, user), CURLM_OK);  // was curl_multi_add_handle(m, a)
    EXPECT_EQ(MultiAdd(m, a, user), CURLM_ADDED_ALREADY);
  }
  int done = 0;
  ASSERT_EQ(RunMulti(m, &done), CURLM_OK);
  EXPECT_EQ(done, 1);
  // The span ended on CURLMSG_DONE, before the handle was removed.
  ASSERT_EQ(ClientSpans(tr.t).size(), 1u);
  const SpanData* sa = ClientSpans(tr.t)[0];
  EXPECT_EQ(sa->kind(), SpanKind::kClient);
  EXPECT_EQ(sa->parent_span_id().ToHex(), parent_id);
  EXPECT_EQ(StrAttr(sa, "url.full"), peer.Url("/ok"));
  EXPECT_EQ(IntAttr(sa, "http.response.status_code"), 200);
  EXPECT_EQ(peer.Header("X-User"), "mine");
  EXPECT_NE(peer.Header("traceparent").find(sa->span_id().ToHex()), std::string::npos) << peer.Header("traceparent");
  ASSERT_EQ(MultiRemove(m, a), CURLM_OK);  // was curl_multi_remove_handle(m, a)
  // The handle has its own list back: a plain perform sends nothing of ours.
  ASSERT_EQ((curl_easy_perform)(a), CURLE_OK);
  EXPECT_EQ(peer.Header("traceparent"), "<absent>");
  EXPECT_EQ(peer.Header("X-User"), "mine");

  // A traced handle next to one added with plain libcurl (left untouched).
  ASSERT_EQ(MultiAdd(m, b), CURLM_OK);
  ASSERT_EQ(curl_multi_add_handle(m, plain), CURLM_OK);
  done = 0;
  ASSERT_EQ(RunMulti(m, &done), CURLM_OK);
  EXPECT_EQ(done, 2);
  ASSERT_EQ(ClientSpans(tr.t).size(), 2u);
  const SpanData* sb = ClientSpans(tr.t)[1];
  EXPECT_EQ(IntAttr(sb, "http.response.status_code"), 404);
  EXPECT_EQ(sb->status(), StatusCode::kError);
  EXPECT_EQ(MultiRemove(m, b), CURLM_OK);
  EXPECT_EQ(MultiRemove(m, plain), CURLM_OK);  // not ours: plain curl_multi_remove_handle

  // Still running at cleanup: its span ends as cancelled; the handle stays the caller's.
  ASSERT_EQ(MultiAdd(m, slow), CURLM_OK);
  int running = 0;
  curl_multi_perform(m, &running);
  ASSERT_EQ(MultiCleanup(m), CURLM_OK);  // was curl_multi_cleanup(m)
  ASSERT_EQ(ClientSpans(tr.t).size(), 3u);
  EXPECT_EQ(StrAttr(ClientSpans(tr.t)[2], "error.type"), "cancelled");
  for (CURL* h : {a, b, plain, slow}) curl_easy_cleanup(h);
  curl_slist_free_all(user);
}

TEST(Curl, CodeNames) {
  EXPECT_EQ(CodeName(CURLE_OK), "CURLE_OK");
  EXPECT_EQ(CodeName(CURLE_SSL_CONNECT_ERROR), "CURLE_SSL_CONNECT_ERROR");
  EXPECT_EQ(CodeName(static_cast<CURLcode>(9999)), "CURLE_9999");
}

}  // namespace
}  // namespace otelweb::curl

namespace otelweb::curl {
namespace {

// The process-wide curl instrumentation, on the global provider, used to keep
// the first real provider forever: after the TracingHandle was destroyed and
// InstallTracing ran again, transfers made no spans and sent no traceparent.
TEST(Curl, ReinstalledGlobalTracingIsPickedUp) {
  Options o;
  o.excluded_urls = "";
  o.default_timeout = std::chrono::milliseconds(0);
  Instrument(std::move(o));  // no provider: the global one
  Peer peer;
  otelweb::testing::InstalledMemoryTracing first;
  {
    Easy e = Request(peer.Url("/ok"));
    ASSERT_EQ(e.perform(), CURLE_OK);
    ASSERT_EQ(first.store->size(), 1u);
    EXPECT_EQ(peer.HeaderCount("traceparent"), 1u);
  }
  first.Drop();
  otelweb::testing::InstalledMemoryTracing second;
  Easy e = Request(peer.Url("/ok"));
  ASSERT_EQ(e.perform(), CURLE_OK);
  second.Shutdown();
  Instrument();
  EXPECT_EQ(first.store->size(), 1u);
  ASSERT_EQ(second.store->size(), 1u);
  const SpanData* s = second.store->spans()[0];
  EXPECT_EQ(s->kind(), SpanKind::kClient);
  EXPECT_EQ(s->scope().name, kScopeName);
  EXPECT_EQ(peer.Header("traceparent"),
            "00-" + s->trace_id().ToHex() + "-" + s->span_id().ToHex() + "-03");  // sampled + random
}

// ---------------------------------------------------------------------------
// HTTP client metrics (http.client.request.duration and the body sizes)

struct Measured {
  ManualMetrics m;
  std::optional<Traced> tr;
  explicit Measured(Options o = {}) {
    o.meter_provider = m.provider;
    tr.emplace(std::move(o));
  }
};

double SpanSeconds(const SpanData* s) { return double(s->end_ns() - s->start_ns()) / 1e9; }

TEST(CurlMetrics, EasyDurationEqualsTheSpansWithAttributesAndBodySizes) {
  Measured x;
  Peer peer;
  Easy e = Request(peer.Url("/echo"));
  e.setopt(CURLOPT_POSTFIELDS, "abcdef");
  ASSERT_EQ(e.perform(), CURLE_OK);
  const SpanData* span = Only(x.tr->t);
  ASSERT_NE(span, nullptr);
  auto rm = x.m.Collect();
  const metrics::MetricData* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 1u);
  const metrics::HistogramPoint& p = d->histogram_points[0];
  EXPECT_EQ(d->unit, "s");
  EXPECT_DOUBLE_EQ(p.sum, SpanSeconds(span));
  EXPECT_EQ(HttpClientAttrs(p.attributes), HttpClientOkAttrs("POST", peer.port()));
  ASSERT_EQ(p.exemplars.size(), 1u);
  EXPECT_EQ(p.exemplars[0].span_id, span->span_id());
  const auto* req = HistogramWith(rm, "http.client.request.body.size", "http.request.method", "POST");
  const auto* res = HistogramWith(rm, "http.client.response.body.size", "http.request.method", "POST");
  ASSERT_NE(req, nullptr);
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(req->sum, 6);
  EXPECT_EQ(res->sum, 6);

  // A chunked response: the body bytes, without the chunk framing.
  Easy c = Request(peer.Url("/chunked"));
  ASSERT_EQ(c.perform(), CURLE_OK);
  rm = x.m.Collect();
  res = HistogramWith(rm, "http.client.response.body.size", "http.request.method", "GET");
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->sum, 7);
}

// A gzip-encoded response (CURLOPT_ACCEPT_ENCODING): the compressed bytes
// received, not the decoded size.
TEST(CurlMetrics, ACompressedResponseReportsItsSizeOnTheWire) {
  Measured x;
  Peer peer;
  std::string got;
  Easy e = Request(peer.Url("/text"));
  e.setopt(CURLOPT_ACCEPT_ENCODING, "gzip");
  e.setopt(CURLOPT_WRITEFUNCTION, &Append);
  e.setopt(CURLOPT_WRITEDATA, &got);
  const CURLcode rc = e.perform();
  curl_header* length = nullptr;
  const bool has_length =
      curl_easy_header(e.get(), "Content-Length", 0, CURLH_HEADER, -1, &length) == CURLHE_OK;
  const int64_t on_wire = has_length ? std::stoll(length->value) : -1;
  ASSERT_EQ(rc, CURLE_OK);
  EXPECT_EQ(got, std::string(Peer::kTextBody, 'a'));
  ASSERT_TRUE(has_length);
  EXPECT_LT(on_wire, static_cast<int64_t>(Peer::kTextBody));
  auto rm = x.m.Collect();
  const auto* res = rm.Find("http.client.response.body.size");
  ASSERT_NE(res, nullptr);
  ASSERT_EQ(res->histogram_points.size(), 1u);
  EXPECT_EQ(res->histogram_points[0].sum, on_wire);
}

TEST(CurlMetrics, ErrorStatusesRefusedAndTimeoutCarryErrorType) {
  Measured x;
  Peer peer;
  Easy missing = Request(peer.Url("/missing"));
  ASSERT_EQ(missing.perform(), CURLE_OK);
  Easy boom = Request(peer.Url("/boom"));
  ASSERT_EQ(boom.perform(), CURLE_OK);
  Easy slow = Request(peer.Url("/slow"), 150);
  EXPECT_EQ(slow.perform(), CURLE_OPERATION_TIMEDOUT);
  const int closed = ClosedLoopbackPort();
  Easy refused = Request("http://127.0.0.1:" + std::to_string(closed) + "/ok");
  EXPECT_EQ(refused.perform(), CURLE_COULDNT_CONNECT);

  auto rm = x.m.Collect();
  const auto* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->histogram_points.size(), 4u);
  const char* name = "http.client.request.duration";
  const auto* nf = HistogramWith(rm, name, "error.type", "404");
  const auto* ise = HistogramWith(rm, name, "error.type", "500");
  const auto* timeout = HistogramWith(rm, name, "error.type", "CURLE_OPERATION_TIMEDOUT");
  const auto* conn = HistogramWith(rm, name, "error.type", "CURLE_COULDNT_CONNECT");
  ASSERT_NE(nf, nullptr);
  ASSERT_NE(ise, nullptr);
  ASSERT_NE(timeout, nullptr);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(MetricAttr(ise->attributes, "http.response.status_code"), "500");
  EXPECT_EQ(MetricAttr(timeout->attributes, "http.response.status_code"), "<absent>");
  EXPECT_EQ(MetricAttr(conn->attributes, "server.port"), std::to_string(closed));
  EXPECT_GE(timeout->sum, 0.1);
  EXPECT_LT(timeout->sum, 0.7);
  const auto* sizes = rm.Find("http.client.response.body.size");
  ASSERT_NE(sizes, nullptr);
  EXPECT_EQ(sizes->histogram_points.size(), 2u);  // only the answered calls
}

TEST(CurlMetrics, UnsampledMeasuredExcludedNot) {
  ManualMetrics m;
  MemoryTracing unsampled(NeverSampledTracing());
  Options o;
  o.tracer_provider = unsampled.provider;
  o.meter_provider = m.provider;
  o.excluded_urls = "/missing";
  o.default_timeout = std::chrono::milliseconds(0);
  Instrument(std::move(o));
  Peer peer;
  Easy e = Request(peer.Url("/ok"));
  ASSERT_EQ(e.perform(), CURLE_OK);
  Easy excluded = Request(peer.Url("/missing"));
  ASSERT_EQ(excluded.perform(), CURLE_OK);
  Instrument();  // back to the defaults
  EXPECT_TRUE(unsampled.store->spans().empty());
  auto rm = m.Collect();
  const auto* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 1u);
  EXPECT_EQ(d->histogram_points[0].count, 1u);
  EXPECT_TRUE(d->histogram_points[0].exemplars.empty());
  EXPECT_EQ(MetricAttr(d->histogram_points[0].attributes, "http.response.status_code"), "200");
}

TEST(CurlMetrics, MultiAndTheMultiWrappersAreMeasured) {
  Measured x;
  Peer peer;
  Easy ok = Request(peer.Url("/ok"));
  Easy missing = Request(peer.Url("/missing"));
  Multi multi;
  ASSERT_EQ(multi.add(ok), CURLM_OK);
  ASSERT_EQ(multi.add(missing), CURLM_OK);
  int running = 1;
  int done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done < 2 && std::chrono::steady_clock::now() < deadline) {
    multi.perform(&running);
    int left = 0;
    while (CURLMsg* msg = multi.info_read(&left)) {
      if (msg->msg == CURLMSG_DONE) ++done;
    }
    if (done < 2) multi.poll(50);
  }
  ASSERT_EQ(done, 2);
  multi.remove(ok);  // completed: removing records nothing more
  multi.remove(missing);

  CURLM* m = curl_multi_init();
  CURL* raw = RawHandle(peer.Url("/boom"));
  ASSERT_EQ(MultiAdd(m, raw), CURLM_OK);
  done = 0;
  ASSERT_EQ(RunMulti(m, &done), CURLM_OK);
  EXPECT_EQ(done, 1);
  ASSERT_EQ(MultiCleanup(m), CURLM_OK);
  curl_easy_cleanup(raw);

  auto rm = x.m.Collect();
  const auto* d = rm.Find("http.client.request.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 3u);
  const char* name = "http.client.request.duration";
  const auto* okp = HistogramWith(rm, name, "http.response.status_code", "200");
  ASSERT_NE(okp, nullptr);
  EXPECT_EQ(okp->count, 1u);
  ASSERT_NE(HistogramWith(rm, name, "error.type", "404"), nullptr);
  ASSERT_NE(HistogramWith(rm, name, "error.type", "500"), nullptr);
  // Each duration equals its span's.
  for (const SpanData* s : ClientSpans(x.tr->t)) {
    const auto* p = HistogramWith(rm, name, "http.response.status_code",
                                  std::to_string(IntAttr(s, "http.response.status_code")));
    ASSERT_NE(p, nullptr);
    EXPECT_DOUBLE_EQ(p->sum, SpanSeconds(s));
  }
}

}  // namespace
}  // namespace otelweb::curl
