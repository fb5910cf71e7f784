// W3C Trace Context, tracestate and Baggage: parsing, limits, propagation.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "otelweb/otelweb.h"
#include "otelweb/testing/diagnostics_capture.h"

namespace otelweb {
namespace {

using Headers = std::map<std::string, std::string>;

Context ExtractTP(const std::string& tp, const std::string& ts = "") {
  Headers h{{"traceparent", tp}};
  if (!ts.empty()) h["tracestate"] = ts;
  MapCarrier<Headers> c(h);
  return W3CTraceContextPropagator().Extract(c, Context());
}

TEST(Traceparent, ValidVersion00) {
  Context c = ExtractTP("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  const SpanContext& sc = c.span_context();
  ASSERT_TRUE(sc.IsValid());
  EXPECT_EQ(sc.trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(sc.span_id().ToHex(), "b7ad6b7169203331");
  EXPECT_TRUE(sc.sampled());
  EXPECT_TRUE(sc.is_remote());
  EXPECT_FALSE(ExtractTP("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00").span_context().sampled());
}

TEST(Traceparent, RejectsWhatTheGrammarRejects) {
  const char* bad[] = {
      "",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",          // missing flags
      "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",       // uppercase
      "00-00000000000000000000000000000000-b7ad6b7169203331-01",       // zero trace id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",       // zero span id
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",       // version ff
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  // v00 must be exactly 55
      "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",       // bad delimiter
      "0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",        // short version
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",       // bad flags hex
      "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01xx",       // wrong field lengths
      "zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",       // bad version hex
  };
  for (const char* tp : bad) {
    EXPECT_FALSE(ExtractTP(tp).span_context().IsValid()) << tp;
  }
}

TEST(Traceparent, FutureVersionsParseTheKnownPrefix) {
  EXPECT_TRUE(ExtractTP("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").span_context().IsValid());
  EXPECT_TRUE(
      ExtractTP("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds")
          .span_context()
          .IsValid());
  // After 55 characters a future version must continue with '-'.
  EXPECT_FALSE(
      ExtractTP("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x").span_context().IsValid());
}

TEST(Traceparent, InjectFormatsVersion00AndRoundTrips) {
  auto tid = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  auto sid = SpanId::FromHex("00f067aa0ba902b7");
  Context ctx = Context().WithSpanContext(SpanContext(*tid, *sid, TraceFlags{1}, false,
                                                      TraceState::FromHeader("congo=t61rcWkgMzE")));
  Headers h{{"x-user-header", "kept"}};
  MapCarrier<Headers> c(h);
  W3CTraceContextPropagator().Inject(ctx, c);
  EXPECT_EQ(h["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(h["tracestate"], "congo=t61rcWkgMzE");
  EXPECT_EQ(h["x-user-header"], "kept");
  Context back = W3CTraceContextPropagator().Extract(c, Context());
  EXPECT_EQ(back.span_context().trace_id(), *tid);
  EXPECT_EQ(back.span_context().trace_state().Get("congo"), "t61rcWkgMzE");
}

TEST(Traceparent, NothingInjectedForAnInvalidContext) {
  Headers h;
  MapCarrier<Headers> c(h);
  W3CTraceContextPropagator().Inject(Context(), c);
  EXPECT_TRUE(h.empty());
}

// W3C Trace Context Level 2, "trace-flags": sampled (0x01) and random
// (0x02) are kept from a remote parent; other bits are reserved and set to
// zero, so they are neither kept nor sent.
TEST(TraceFlagsLevel2, RandomBitKeptUnknownBitsCleared) {
  const std::string base = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-";
  struct Case {
    const char* in;
    uint8_t kept;
  } cases[] = {{"00", 0x00}, {"01", 0x01}, {"02", 0x02}, {"03", 0x03},
               {"ff", 0x03}, {"fe", 0x02}, {"09", 0x01}, {"04", 0x00}};
  for (const Case& k : cases) {
    Context c = ExtractTP(base + k.in);
    ASSERT_TRUE(c.span_context().IsValid()) << k.in;
    EXPECT_EQ(c.span_context().flags().value, k.kept) << k.in;
    Headers out;
    MapCarrier<Headers> carrier(out);
    W3CTraceContextPropagator().Inject(c, carrier);
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", k.kept);
    EXPECT_EQ(out["traceparent"], base + hex) << k.in;
  }
  // Injecting a context whose flags carry reserved bits never sends them.
  auto tid = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  auto sid = SpanId::FromHex("00f067aa0ba902b7");
  Headers out;
  MapCarrier<Headers> carrier(out);
  W3CTraceContextPropagator().Inject(Context().WithSpanContext(SpanContext(*tid, *sid, TraceFlags{0xf7}, false)),
                                     carrier);
  EXPECT_EQ(out["traceparent"], base + "03");
}

TEST(Tracestate, ParsesValidListsAndKeepsOrder) {
  TraceState ts = TraceState::FromHeader("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,,tenant@vendor=x");
  EXPECT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts.header(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x");
  EXPECT_EQ(ts.Get("congo"), "t61rcWkgMzE");
  EXPECT_EQ(ts.Get("tenant@vendor"), "x");
  EXPECT_EQ(ts.Get("missing"), "");
}

// W3C Trace Context Level 2, "Key": (lcalpha / DIGIT) 0*255 keychar, with '@'
// an ordinary key character (Level 1's tenant@system split is gone).
TEST(Tracestate, Level2KeyGrammar) {
  const char* valid[] = {"foo", "1abc", "0", "foo@", "foo@@bar", "foo@bar@baz", "tenant@vendor",
                         "a-z0-9_-*/@x", "t@s0123456789012345678"};  // system part longer than 14
  for (const char* k : valid) EXPECT_TRUE(TraceState::IsValidKey(k)) << k;
  std::string longest(256, 'a');
  EXPECT_TRUE(TraceState::IsValidKey(longest));
  const char* invalid[] = {"", "@foo", "_foo", "-foo", "*foo", "/foo", "FOO", "fOo", "foo.bar", "foo ", "foo=", "f\x7f"};
  for (const char* k : invalid) EXPECT_FALSE(TraceState::IsValidKey(k)) << k;
  EXPECT_FALSE(TraceState::IsValidKey(longest + "a"));
}

// The W3C test suite's all-allowed-characters case, with and without '@'.
TEST(Tracestate, AllAllowedCharacters) {
  std::string key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
  std::string value;
  for (int c = 0x20; c <= 0x7e; ++c) {
    if (c != ',' && c != '=') value += static_cast<char>(c);
  }
  for (const std::string& k : {key, key + "@a-z0-9_-*/"}) {
    TraceState ts = TraceState::FromHeader(k + "=" + value);
    ASSERT_EQ(ts.size(), 1u) << k;
    EXPECT_EQ(ts.Get(k), value);
  }
}

// Values keep their leading spaces (part of the value); trailing OWS is not
// part of the value (Level 2, "Value").
TEST(Tracestate, OwsAroundMembersAndLeadingSpacesInValues) {
  EXPECT_EQ(TraceState::FromHeader("foo=1 \t , \t bar=2, \t baz=3").header(), "foo=1,bar=2,baz=3");
  EXPECT_EQ(TraceState::FromHeader("\t foo=1 \t").header(), "foo=1");
  EXPECT_EQ(TraceState::FromHeader("foo= 1").Get("foo"), " 1");
}

// An invalid member is dropped alone; the others are kept in their order.
TEST(Tracestate, InvalidMembersAreDroppedAloneAndTraceparentKept) {
  const char* bad[] = {"UPPER=1", "k=",    "=v",     "k=v=w", "k=a\tb", "@k=v",
                       "k.x=v",   "k =v",  "k=\x7f", "novalue", "k=v\xc3\xa9"};
  for (const char* m : bad) {
    std::string h = std::string("rojo=00f067aa0ba902b7,") + m + ",congo=t61rcWkgMzE";
    TraceState ts = TraceState::FromHeader(h);
    EXPECT_EQ(ts.header(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE") << h;
    EXPECT_TRUE(TraceState::FromHeader(m).empty()) << m;
  }
  Context c = ExtractTP("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "FOO=1,bar=2");
  EXPECT_TRUE(c.span_context().IsValid());
  EXPECT_EQ(c.span_context().trace_state().header(), "bar=2");
}

// Duplicate keys: the first occurrence is kept, the rest of the header too.
TEST(Tracestate, DuplicateKeysKeepTheFirstOccurrence) {
  EXPECT_EQ(TraceState::FromHeader("foo=1,foo=1").header(), "foo=1");
  EXPECT_EQ(TraceState::FromHeader("foo=1,foo=2").header(), "foo=1");
  EXPECT_EQ(TraceState::FromHeader("a=1,foo=1,b=2,foo=2,c=3").header(), "a=1,foo=1,b=2,c=3");
  // Two header lines joined with ',' (RFC 7230 field order), as carriers do.
  Context c = ExtractTP("00-12345678901234567890123456789012-1234567890123456-00", "foo=1,bar=2,foo=2");
  EXPECT_EQ(c.span_context().trace_state().header(), "foo=1,bar=2");
}

TEST(Tracestate, ThirtyTwoMembersAtMost) {
  std::string h;
  for (int i = 0; i < 32; ++i) h += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  EXPECT_EQ(TraceState::FromHeader(h).size(), 32u);
  EXPECT_TRUE(TraceState::FromHeader(h + ",k32=v").empty());
  // Set on a full list keeps 32: the new key goes in front, the last falls off.
  TraceState full = TraceState::FromHeader(h);
  TraceState added = full.Set("new", "1");
  EXPECT_EQ(added.size(), 32u);
  EXPECT_EQ(added.header().substr(0, 6), "new=1,");
  EXPECT_EQ(added.Get("k31"), "");
}

TEST(Tracestate, SetMovesToFrontAndDeleteRemoves) {
  TraceState ts = TraceState::FromHeader("a=1,b=2,c=3");
  EXPECT_EQ(ts.Set("b", "9").header(), "b=9,a=1,c=3");
  EXPECT_EQ(ts.Delete("a").header(), "b=2,c=3");
  EXPECT_EQ(ts.Set("BAD", "x").header(), ts.header());  // invalid key: unchanged
  EXPECT_EQ(ts.header(), "a=1,b=2,c=3");                 // immutable
}

TEST(Baggage, ParsesDecodesAndKeepsProperties) {
  Baggage b = Baggage::FromHeader("user=alice, session=abc%20def;ttl=60 ,bad key=1,empty=");
  EXPECT_EQ(b.Get("user"), "alice");
  EXPECT_EQ(b.Get("session"), "abc def");
  EXPECT_EQ(b.Entry(1).metadata, "ttl=60");
  EXPECT_FALSE(b.Contains("bad key"));
  EXPECT_TRUE(b.Contains("empty"));
}

TEST(Baggage, BadPercentEscapesSkipOnlyThatMember) {
  Baggage b = Baggage::FromHeader("a=%zz,b=ok,c=%4");
  EXPECT_FALSE(b.Contains("a"));
  EXPECT_EQ(b.Get("b"), "ok");
  EXPECT_FALSE(b.Contains("c"));
}

TEST(Baggage, EncodeRoundTrip) {
  Baggage b = Baggage().Set("k", "a b,c;d=é%\"").Set("n", "1", "prop");
  std::string h = b.ToHeader();
  EXPECT_EQ(h.find(' '), std::string::npos);
  Baggage back = Baggage::FromHeader(h);
  EXPECT_EQ(back.Get("k"), "a b,c;d=é%\"");
  EXPECT_EQ(back.Get("n"), "1");
  EXPECT_EQ(back.Entry(1).metadata, "prop");
}

TEST(Baggage, Limits) {
  std::string h;
  for (int i = 0; i < 70; ++i) h += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  EXPECT_EQ(Baggage::FromHeader(h).size(), Baggage::kMaxMembers);
  std::string big = "big=" + std::string(5000, 'x');
  EXPECT_FALSE(Baggage::FromHeader(big + ",small=1").Contains("big"));
  EXPECT_TRUE(Baggage::FromHeader(big + ",small=1").Contains("small"));
  Baggage many;
  for (int i = 0; i < 10; ++i) many = many.Set("key" + std::to_string(i), std::string(1000, 'v'));
  EXPECT_LE(many.ToHeader().size(), Baggage::kMaxTotalBytes);
}

TEST(Baggage, PropagatorInjectsAndExtracts) {
  Context ctx = Context().WithBaggage(Baggage().Set("tenant", "acme"));
  Headers h;
  MapCarrier<Headers> c(h);
  W3CBaggagePropagator().Inject(ctx, c);
  EXPECT_EQ(h["baggage"], "tenant=acme");
  EXPECT_EQ(W3CBaggagePropagator().Extract(c, Context()).baggage().Get("tenant"), "acme");
}

TEST(Composite, RunsEachPartAndTheEnvironmentNamesThem) {
  testing::DiagnosticsCapture diag;
  auto p = MakePropagators("tracecontext, baggage, b3, xray");
  std::vector<std::string> warnings = diag.messages();
  EXPECT_EQ(warnings.size(), 2u);
  auto fields = p->Fields();
  EXPECT_EQ(fields.size(), 3u);
  Headers h{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, {"baggage", "a=1"}};
  MapCarrier<Headers> c(h);
  Context ctx = p->Extract(c, Context());
  EXPECT_TRUE(ctx.span_context().IsValid());
  EXPECT_EQ(ctx.baggage().Get("a"), "1");
  Headers out;
  MapCarrier<Headers> oc(out);
  p->Inject(ctx, oc);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_TRUE(MakePropagators("none")->Fields().empty());
  EXPECT_EQ(MakePropagators("")->Fields().size(), 3u);  // default: tracecontext,baggage
}

TEST(Ids, HexRoundTripsAndValidity) {
  auto t = TraceId::FromHex("0102030405060708090a0b0c0d0e0f10");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ToHex(), "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(t->Low64(), 0x090a0b0c0d0e0f10ull);
  EXPECT_EQ(TraceId::FromWords(0x0102030405060708ull, 0x090a0b0c0d0e0f10ull), *t);
  EXPECT_FALSE(TraceId::FromHex("0102"));
  EXPECT_FALSE(TraceId().IsValid());
  EXPECT_EQ(SpanId::FromWord(0xabcdef0123456789ull).ToHex(), "abcdef0123456789");
}

}  // namespace
}  // namespace otelweb
