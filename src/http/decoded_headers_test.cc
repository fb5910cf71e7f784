// What reaches the propagators from header values a framework percent-decoded
// (PercentDecodedHeaderReader), and control characters in captured values.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otelweb/http/headers.h"
#include "otelweb/propagation.h"
#include "support/http_test_support.h"
#include "support/vector_headers.h"

namespace otelweb::http {
namespace {

using namespace otelweb::testing;  // NOLINT(build/namespaces)

constexpr const char* kTp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(DecodedHeaders, TraceparentShowingDecodingIsRefused) {
  EXPECT_TRUE(DecodedTraceparentUsable(kTp));
  // The framework trims the whitespace that was sent: whitespace left at an
  // end was a decoded "%20" or "%09".
  EXPECT_FALSE(DecodedTraceparentUsable(std::string(" ") + kTp));
  EXPECT_FALSE(DecodedTraceparentUsable(std::string(kTp) + "\t"));
  EXPECT_FALSE(DecodedTraceparentUsable(std::string(kTp) + "\r\n"));
  EXPECT_FALSE(DecodedTraceparentUsable(std::string(kTp, 54) + "%"));
  EXPECT_FALSE(DecodedTraceparentUsable(std::string("00-\x00", 4)));
  EXPECT_FALSE(DecodedTraceparentUsable(""));
}

TEST(DecodedHeaders, TracestateKeepsOnlyMembersDecodingCannotHaveCut) {
  // Untouched members pass (OWS around members is the list's own).
  EXPECT_EQ(TracestateFromDecoded("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7"),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  // "congo=t61%2Crojo" was sent: the decoded ',' made a fragment; it goes,
  // with the member it was cut from; the next member stays.
  EXPECT_EQ(TracestateFromDecoded("congo=t61,rojo,x=1"), "x=1");
  EXPECT_EQ(TracestateFromDecoded("w=0,congo=t61,rojo,x=1"), "w=0,x=1");
  EXPECT_EQ(TracestateFromDecoded("w=0,congo=t61,rojo"), "w=0");
  // A fragment whose text looks like an invalid key is a fragment too.
  EXPECT_EQ(TracestateFromDecoded("a=1,b c=2,d=3"), "d=3");
  // '=' (from "%3D") and '%' (from "%25") in a value: that member alone.
  EXPECT_EQ(TracestateFromDecoded("a=1,k=v=x,b=2"), "a=1,b=2");
  EXPECT_EQ(TracestateFromDecoded("a=1,k=50%,b=2"), "a=1,b=2");
  // Control characters (from "%0D%0A", "%00").
  EXPECT_EQ(TracestateFromDecoded(std::string("a=x\r\ny,b=2")), "b=2");
  EXPECT_EQ(TracestateFromDecoded(std::string("a=x\0y,b=2", 9)), "b=2");
  EXPECT_EQ(TracestateFromDecoded("rojo"), "");
  EXPECT_EQ(TracestateFromDecoded(""), "");
  // The residual limitation: "k=a%41" sent is read as "k=aA".
  EXPECT_EQ(TracestateFromDecoded("k=aA"), "k=aA");
}

TEST(DecodedHeaders, BaggageValuesAreTakenAsDecodedAndEncodedAgain) {
  // "k=a%20b" sent: the framework did the propagator's decoding.
  EXPECT_EQ(BaggageFromDecoded("k=a b"), "k=a%20b");
  // "k=50%25" sent: a literal '%'.
  EXPECT_EQ(BaggageFromDecoded("k=50%"), "k=50%25");
  // "k=%0D%0Aeol" sent: a value with CR LF, as the raw header gives it.
  EXPECT_EQ(BaggageFromDecoded("k=\r\neol"), "k=%0D%0Aeol");
  // "k=a%3Db" sent: '=' is a baggage octet, the value is "a=b" either way.
  EXPECT_EQ(BaggageFromDecoded("k=a=b"), "k=a=b");
  // "k=a%2Cb,m=1" sent: the fragment goes, with the member cut short.
  EXPECT_EQ(BaggageFromDecoded("k=a,b,m=1"), "m=1");
  EXPECT_EQ(BaggageFromDecoded("j=0,k=a,b,m=1"), "j=0,m=1");
  EXPECT_EQ(BaggageFromDecoded("j=0,k=a,b"), "j=0");
  // "k=a%3Bb" sent, or k=a with a property? Cannot tell: refused.
  EXPECT_EQ(BaggageFromDecoded("k=a;b,m=1"), "m=1");
  EXPECT_EQ(BaggageFromDecoded("k=a;prop=1,m=1"), "m=1");
  // Whitespace next to the value: OWS or a decoded "%20"? Refused.
  EXPECT_EQ(BaggageFromDecoded("k= a,m=1"), "m=1");
  EXPECT_EQ(BaggageFromDecoded("k=a ,m=1"), "m=1");
  EXPECT_EQ(BaggageFromDecoded("m=1,k=a "), "m=1");
  // Whitespace around list members and keys is the list's own.
  EXPECT_EQ(BaggageFromDecoded(" k=1 , m=2"), "m=2");  // "k=1 " has trailing OWS
  EXPECT_EQ(BaggageFromDecoded(" k =1, m=2"), "k=1,m=2");
  EXPECT_EQ(BaggageFromDecoded("no-equals"), "");
}

TEST(DecodedHeaders, ReaderAppliesTheRulesPerKeyAndPropagatorsAgree) {
  VectorHeaders decoded({{"traceparent", kTp},
                         {"tracestate", "congo=t61,rojo,x=1"},
                         {"baggage", "k=a b"},
                         {"baggage", "bad=1;p"},
                         {"user-agent", "curl\r\nX-Evil: 1"},
                         {"host", "h"}});
  PercentDecodedHeaderReader r(decoded);
  std::string s;
  EXPECT_EQ(r.Get("traceparent", s), kTp);
  EXPECT_EQ(r.Get("tracestate", s), "x=1");
  EXPECT_EQ(r.Get("baggage", s), "k=a%20b");
  EXPECT_EQ(r.Get("user-agent", s), "");
  EXPECT_EQ(r.Get("host", s), "h");
  EXPECT_EQ(r.Get("missing", s), "");
  Context c = MakePropagators("tracecontext,baggage")->Extract(r, Context());
  EXPECT_EQ(c.span_context().trace_id().ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(c.span_context().trace_state().header(), "x=1");
  EXPECT_EQ(c.baggage().Get("k"), "a b");
  EXPECT_FALSE(c.baggage().Contains("bad"));
  // A traceparent that shows decoding is not extracted.
  VectorHeaders spaced({{"traceparent", std::string(" ") + kTp}});
  PercentDecodedHeaderReader r2(spaced);
  EXPECT_FALSE(MakePropagators("tracecontext")->Extract(r2, Context()).span_context().IsValid());
}

TEST(DecodedHeaders, CaptureLeavesOutValuesWithControlCharacters) {
  EXPECT_FALSE(HasControlCharacter("a b\tc"));
  EXPECT_TRUE(HasControlCharacter("a\r\nb"));
  EXPECT_TRUE(HasControlCharacter(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlCharacter("\x7f"));
  EXPECT_TRUE(HasControlCharacter("\r"));
  EXPECT_FALSE(HasControlCharacter("caf\xc3\xa9"));
  MemoryTracing t;
  HeaderCapture cap({"x-v", "x-only-bad"}, {}, "http.request.header.");
  VectorHeaders h({{"X-V", "ok"},
                   {"X-V", "a\r\nX-Injected: 1"},
                   {"x-v", std::string("n\0ul", 4)},
                   {"X-Only-Bad", "\x01"}});
  {
    auto span = t.provider->GetTracer("t").StartSpan("s");
    cap.Capture(h, span.Ref());
  }
  auto spans = t.Exactly(1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(ArrAttr(spans[0], "http.request.header.x-v"), (std::vector<std::string>{"ok"}));
  EXPECT_FALSE(HasAttr(spans[0], "http.request.header.x-only-bad"));
}

}  // namespace
}  // namespace otelweb::http
