// OTLP/JSON: parsed back with libprotobuf's JSON parser (after turning the
// OTLP-specific hex ids into proto3 JSON's base64) and compared field by field.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <regex>

#include "otelweb/exporters/otlp.h"
#include "otlp/otlp_test_util.h"

namespace otelweb::otlp {
namespace {

namespace pb = ::opentelemetry::proto;

std::string Base64(const std::string& bin) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bin.size(); i += 3) {
    uint32_t v = uint8_t(bin[i]) << 16 | uint8_t(bin[i + 1]) << 8 | uint8_t(bin[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i + 1 == bin.size()) {
    uint32_t v = uint8_t(bin[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bin.size()) {
    uint32_t v = uint8_t(bin[i]) << 16 | uint8_t(bin[i + 1]) << 8;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// OTLP/JSON -> proto3 JSON: ids are hex in OTLP/JSON, base64 in proto3 JSON.
std::string HexIdsToBase64(const std::string& json) {
  static const std::regex id("\"(traceId|spanId|parentSpanId)\":\"([0-9a-f]*)\"");
  std::string out;
  auto begin = std::sregex_iterator(json.begin(), json.end(), id);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.append(json, last, size_t(m.position(0)) - last);
    std::string hex = m[2].str(), bin;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bin += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    out += "\"" + m[1].str() + "\":\"" + Base64(bin) + "\"";
    last = size_t(m.position(0) + m.length(0));
  }
  out.append(json, last);
  return out;
}

TEST(OtlpJson, ParsesAsTheSameRequestAsProtobuf) {
  testing::SpanSource a("svc-a"), b("svc-b");
  Tracer ta = a.provider->GetTracer("scope-a", "1.0", "https://example.com/s");
  Tracer tb = b.provider->GetTracer("scope-b");
  testing::MakeRichSpan(ta);
  tb.StartSpan("plain").End();
  {
    Span r = ta.StartSpan("root");
    Scope s = MakeCurrent(r);
    ta.StartSpan("child", SpanKind::kProducer).End();
  }
  std::vector<const SpanData*> all = a.store->spans();
  for (auto* s : b.store->spans()) all.push_back(s);
  std::string json = EncodeJson(all);
  // The OTLP/JSON rules: lowerCamelCase keys, enums as integers, 64-bit
  // integers as strings, hex ids.
  EXPECT_NE(json.find("\"startTimeUnixNano\":\""), std::string::npos);
  EXPECT_NE(json.find("\"kind\":2"), std::string::npos);
  EXPECT_NE(json.find("\"intValue\":\"503\""), std::string::npos);
  EXPECT_NE(json.find("\"traceId\":\"0102030405060708090a0b0c0d0e0f10\""), std::string::npos);
  EXPECT_NE(json.find("\"parentSpanId\":\"1112131415161718\""), std::string::npos);

  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto st = google::protobuf::util::JsonStringToMessage(HexIdsToBase64(json), &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(req.resource_spans_size(), 2);
  testing::ExpectRequestsMatch({req}, all);

  // Same request as the protobuf encoder's.
  ProtobufEncoder enc;
  pb::collector::trace::v1::ExportTraceServiceRequest from_pb;
  ASSERT_TRUE(from_pb.ParseFromString(enc.Encode(all)));
  EXPECT_EQ(from_pb.DebugString(), req.DebugString());
}

}  // namespace
}  // namespace otelweb::otlp
