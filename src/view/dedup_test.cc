// otelweb-view: spans a sender resends are stored once; the trace JSON written
// directly equals the document model's; GetTrace's order for deep chains.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <set>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "view/trace_json.h"
#include "view_test_util.h"

namespace otelweb::view::testing {
namespace {

namespace tsvc = ::opentelemetry::proto::collector::trace::v1;

int PostProtobuf(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/v1/traces", body, "application/x-protobuf");
  return r ? r->status : 0;
}

// A sender whose first attempt timed out sends the same request again (and
// again): over HTTP protobuf, HTTP JSON and gRPC; then a request that repeats
// two stored spans with one new, and one that holds the same span twice.
TEST(Dedup, SpansASenderResendsAreStoredOnce) {
  Running r;
  const std::string t = TraceHex(901);
  std::vector<SpanSpec> first = {
      {t,
       SpanHex(1),
       "",
       "GET /cart",
       "shop",
       2,
       1700000000000000000ull,
       9000000,
       false,
       {{"region", "eu"}}},
      {t, SpanHex(2), SpanHex(1), "SELECT", "shop", 3, 1700000000001000000ull, 1000000, true, {}},
      {t, SpanHex(3), SpanHex(1), "POST /pay", "pay", 2, 1700000000002000000ull, 5000000, true, {}},
  };
  const std::string body = MakeRequest(first).SerializeAsString();
  for (int attempt = 0; attempt < 3; ++attempt)
    ASSERT_EQ(PostProtobuf(r.server->http_port(), body), 200);
  {
    httplib::Client c("127.0.0.1", r.server->http_port());
    auto res = c.Post("/v1/traces", ToOtlpJson(MakeRequest(first)), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(r.server->grpc_port()),
                                       grpc::InsecureChannelCredentials());
    auto stub = tsvc::TraceService::NewStub(channel);
    grpc::ClientContext ctx;
    tsvc::ExportTraceServiceResponse resp;
    ASSERT_TRUE(stub->Export(&ctx, MakeRequest(first), &resp).ok());
  }
  // Two spans seen before and a new one; then a batch repeating a span.
  std::vector<SpanSpec> overlap = {first[1],
                                   first[2],
                                   {t,
                                    SpanHex(4),
                                    SpanHex(3),
                                    "UPDATE",
                                    "pay",
                                    3,
                                    1700000000003000000ull,
                                    1000000,
                                    false,
                                    {{"db.system", "sqlite"}}}};
  ASSERT_EQ(PostProtobuf(r.server->http_port(), MakeRequest(overlap).SerializeAsString()), 200);
  const std::string t2 = TraceHex(902);
  SpanSpec twice{t2,      SpanHex(9), "", "GET /twice", "shop", 2, 1700000001000000000ull,
                 1000000, true,       {}};
  ASSERT_EQ(
      PostProtobuf(r.server->http_port(), MakeRequest({twice, twice, twice}).SerializeAsString()),
      200);
  ASSERT_TRUE(r.store->Flush(10s));

  const int ui = r.server->ui_port();
  auto stats = Get(ui, "/api/stats");
  EXPECT_EQ(stats.json["traces"], 2);
  EXPECT_EQ(stats.json["spans"], 5);
  // The first request was resent 4 times (twice over HTTP protobuf, once over HTTP JSON and gRPC):
  // 4 * 3 repeated spans; 2 repeats in the overlap, 2 in the batch.
  EXPECT_EQ(stats.json["duplicateSpans"], 4 * 3 + 2 + 2);
  auto list = Get(ui, "/api/traces?limit=10");
  ASSERT_EQ(list.json["traces"].size(), 2u);
  for (const auto& s : list.json["traces"]) {
    if (s["traceId"] == t) {
      EXPECT_EQ(s["spanCount"], 4);
      EXPECT_EQ(s["errorCount"], 2);
      EXPECT_EQ(s["durationNano"], 9000000);
      EXPECT_EQ(s["services"], Json::array({"pay", "shop"}));
    } else {
      EXPECT_EQ(s["traceId"], t2);
      EXPECT_EQ(s["spanCount"], 1);
      EXPECT_EQ(s["errorCount"], 1);
    }
  }
  auto trace = Get(ui, "/api/traces/" + t);
  ASSERT_EQ(trace.status, 200);
  std::set<std::string> ids;
  for (const auto& s : trace.json["spans"]) ids.insert(s["spanId"].get<std::string>());
  EXPECT_EQ(trace.json["spans"].size(), 4u);
  EXPECT_EQ(ids, (std::set<std::string>{SpanHex(1), SpanHex(2), SpanHex(3), SpanHex(4)}));
  // The attribute filters still find the trace by a value of the new span.
  EXPECT_EQ(Get(ui, "/api/traces?attr=db.system%3Dsqlite").json["total"], 1);
  EXPECT_EQ(Get(ui, "/api/traces?error=1").json["total"], 2);
}

// The directly written trace JSON equals the document model (otlp_json.h
// ToJson) for every value kind, odd strings and repeated keys; resources and
// scopes are listed once and named by index; default members are left out.
TEST(TraceJson, EqualsTheDocumentModel) {
  namespace pb = ::opentelemetry::proto;
  StoredSpan s;
  auto context = std::make_shared<pb::trace::v1::ResourceSpans>();
  auto* res = context->mutable_resource();
  auto* kv = res->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("svc \"quoted\"");
  context->add_scope_spans()->mutable_scope()->set_name("scope\\name");
  context->mutable_scope_spans(0)->mutable_scope()->set_version("1.0");
  s.context = context;
  auto& sp = s.span;
  sp.set_span_id(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  sp.set_trace_id(std::string(16, '\xab'));
  sp.set_name("na\tme\n\x01 \xe2\x82\xac bad:\xff\xfe end");
  sp.set_kind(pb::trace::v1::Span::SPAN_KIND_CLIENT);
  sp.set_start_time_unix_nano(1700000000000000001ull);
  sp.set_end_time_unix_nano(1700000000000000501ull);
  sp.mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
  sp.mutable_status()->set_message("boom");
  auto add = [&](const std::string& k) {
    auto* a = sp.add_attributes();
    a->set_key(k);
    return a->mutable_value();
  };
  add("s")->set_string_value("text");
  add("b")->set_bool_value(true);
  add("i")->set_int_value(-42);
  add("big")->set_int_value(int64_t(1) << 60);
  add("d")->set_double_value(0.1);
  add("whole")->set_double_value(3.0);
  add("nan")->set_double_value(std::nan(""));
  add("bytes")->set_bytes_value(std::string("\x00\xff\x10", 3));
  auto* arr = add("arr")->mutable_array_value();
  arr->add_values()->set_int_value(1);
  arr->add_values()->set_string_value("two");
  auto* kvl = add("kv")->mutable_kvlist_value();
  auto* inner = kvl->add_values();
  inner->set_key("z");
  inner->mutable_value()->set_bool_value(false);
  add("empty");
  add("s")->set_string_value("last wins");
  auto* e = sp.add_events();
  e->set_name("exception");
  e->set_time_unix_nano(1700000000000000002ull);
  e->add_attributes()->set_key("exception.message");
  e->mutable_attributes(0)->mutable_value()->set_string_value("x");
  e->set_dropped_attributes_count(2);
  auto* l = sp.add_links();
  l->set_trace_id(std::string(16, '\x01'));
  l->set_span_id(std::string(8, '\x02'));
  l->set_trace_state("a=b");
  sp.set_dropped_attributes_count(3);
  sp.set_dropped_events_count(4);
  sp.set_dropped_links_count(5);
  sp.set_trace_state("k=v");
  s.context_id = 7;
  // A span of another service, with every optional member at its default.
  StoredSpan plain = s;
  plain.context_id = 8;
  auto other_context = std::make_shared<pb::trace::v1::ResourceSpans>(*context);
  other_context->mutable_resource()->mutable_attributes(0)->mutable_value()->set_string_value("other");
  plain.context = other_context;
  plain.span.clear_events();
  plain.span.clear_links();
  plain.span.set_dropped_attributes_count(0);
  plain.span.set_dropped_events_count(0);
  plain.span.set_dropped_links_count(0);
  plain.span.clear_trace_state();
  plain.span.mutable_status()->clear_message();
  // A third stored context with the first one's resource and scope: named by the same indexes.
  StoredSpan same = s;
  same.context_id = 9;
  std::vector<StoredSpan> spans{s, s, plain, same};

  Json got = Json::parse(TraceJson(sp.trace_id(), spans));
  auto one = [&]() {
    Json span = {{"spanId", Hex(sp.span_id())},
                 {"parentSpanId", ""},
                 {"name", sp.name()},
                 {"kind", "CLIENT"},
                 {"service", "svc \"quoted\""},
                 {"startTimeUnixNano", "1700000000000000001"},
                 {"endTimeUnixNano", "1700000000000000501"},
                 {"durationNano", 500},
                 {"status", {{"code", "ERROR"}, {"message", "boom"}}},
                 {"attributes", ToJson(sp.attributes())},
                 {"events", Json::array({{{"name", "exception"},
                                          {"timeUnixNano", "1700000000000000002"},
                                          {"attributes", {{"exception.message", "x"}}},
                                          {"droppedAttributesCount", 2}}})},
                 {"links", Json::array({{{"traceId", "01010101010101010101010101010101"},
                                         {"spanId", "0202020202020202"},
                                         {"traceState", "a=b"},
                                         {"attributes", Json::object()}}})},
                 {"droppedAttributesCount", 3},
                 {"droppedEventsCount", 4},
                 {"droppedLinksCount", 5},
                 {"resourceIndex", 0},
                 {"scopeIndex", 0},
                 {"traceState", "k=v"}};
    return span;
  };
  // The plain span: another resource, the members at their default left out.
  Json other = one();
  other["service"] = "other";
  other["status"].erase("message");
  for (const char* gone : {"events", "links", "droppedAttributesCount", "droppedEventsCount", "droppedLinksCount",
                           "traceState"}) {
    other.erase(gone);
  }
  other["resourceIndex"] = 1;
  // The document model's own string repair (U+FFFD for invalid bytes).
  Json want = Json::parse(
      Json{{"traceId", "abababababababababababababababab"},
           {"spans", Json::array({one(), one(), other, one()})},
           {"resources", Json::array({{{"attributes", ToJson(res->attributes())}},
                                      {{"attributes", ToJson(plain.context->resource().attributes())}}})},
           {"scopes", Json::array({{{"name", "scope\\name"}, {"version", "1.0"}}})}}
          .dump(-1, ' ', false, Json::error_handler_t::replace));
  EXPECT_EQ(got, want) << got.dump(1);
  EXPECT_EQ(got["spans"][0]["attributes"]["s"], "last wins");
  EXPECT_EQ(got["spans"][0]["attributes"]["big"], "1152921504606846976");
  EXPECT_TRUE(got["spans"][0]["attributes"]["nan"].is_null());
  EXPECT_TRUE(got["spans"][0]["attributes"]["whole"].is_number_float());
}

// Equal start times: parents before children, also for a chain thousands of
// spans deep sent child-first; a cycle of parent ids still answers.
TEST(GetTrace, ParentsBeforeChildrenAtEqualStartsInLinearTime) {
  Running r;
  const std::string t = TraceHex(903);
  const int n = 5000;
  std::vector<SpanSpec> chain;
  for (int k = n - 1; k >= 0; --k) {
    chain.push_back({t,
                     SpanHex(uint64_t(k)),
                     k ? SpanHex(uint64_t(k - 1)) : "",
                     "s" + std::to_string(k),
                     "svc",
                     1,
                     1700000000000000000ull,
                     1000,
                     false,
                     {}});
  }
  ASSERT_EQ(r.store->AddTraces(MakeRequest(chain)), Admit::kStored);
  const std::string c = TraceHex(904);  // a -> b -> a
  ASSERT_EQ(r.store->AddTraces(
                MakeRequest({{c, SpanHex(1), SpanHex(2), "a"}, {c, SpanHex(2), SpanHex(1), "b"}})),
            Admit::kStored);
  ASSERT_TRUE(r.store->Flush(20s));
  std::string bin;
  FromHex(t, 16, &bin);
  std::vector<StoredSpan> spans;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.store->GetTrace(bin, &spans));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(spans.size(), size_t(n));
  for (int k = 0; k < n; ++k)
    ASSERT_EQ(Hex(spans[size_t(k)].span.span_id()), SpanHex(uint64_t(k))) << k;
  EXPECT_LT(took, 5s);  // was quadratic (a walk to the root per span)
  std::vector<StoredSpan> cyc;
  FromHex(c, 16, &bin);
  ASSERT_TRUE(r.store->GetTrace(bin, &cyc));
  EXPECT_EQ(cyc.size(), 2u);
}

}  // namespace
}  // namespace otelweb::view::testing
