// Shared by the adapters' tests of "header values reach propagators and
// attributes exactly as sent" (issue 10, part 2): one request whose header
// values hold percent-escapes, control characters and a spoofed socket
// pseudo-header, written on a raw socket, and what each kind of adapter must
// make of it. A server's handler answers Reached(): what the propagators
// extracted, as the handler sees it in Context::Current().
#pragma once

#include <string>
#include <string_view>

#include "otelweb/context.h"

namespace otelweb::testing {

inline constexpr std::string_view kWireTraceId = "0af7651916cd43dd8448eb211c80319c";

// The header lines (each ends with CRLF) of the test request; the X-Ctl line
// holds a raw control character (0x01), which some frameworks reject.
inline std::string WireValueHeaders(bool with_control = true) {
  return std::string(
             "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
             // A value with an encoded ',' (kept whole as sent), a plain member,
             // and an escape that decodes to an allowed character.
             "tracestate: congo=t61%2Crojo,x=1,k=a%41\r\n"
             // Baggage values are percent-encoded by the baggage spec itself.
             "baggage: sp=a%20b,comma=a%2Cb,semi=a%3Bb,pct=50%25,crlf=%0D%0Aeol,dbl=a%2520b\r\n"
             "X-Enc: a%0D%0Ab\r\n"
             "X-Pct: a%20b\r\n") +
         std::string(with_control ? "X-Ctl: a\x01"
                                    "b\r\n"
                                  : "") +
         "remote_addr: 6.6.6.6\r\n"
         "REMOTE_PORT: 1\r\n";
}

// A complete request for `path` with those headers.
inline std::string WireValueRequest(std::string_view path, bool with_control = true) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         WireValueHeaders(with_control) + "\r\n";
}

// What the raw header values give (the adapter reads the wire).
inline constexpr std::string_view kReachedRaw =
    "trace=continued ts=congo=t61%2Crojo,x=1,k=a%41 "
    "bg=sp:a b|comma:a,b|semi:a;b|pct:50%|crlf:\\r\\neol|dbl:a%20b|";
// What the decoded fallback gives (cpp-httplib decoded the values): members
// that decoding could have cut or merged are refused; "k=a%41" arriving as
// "k=aA" is the documented residual limitation.
inline constexpr std::string_view kReachedDecoded =
    "trace=continued ts=x=1,k=aA bg=sp:a b|pct:50%|crlf:\\r\\neol|dbl:a%20b|";

// For the handler: "trace=continued|new ts=<tracestate> bg=<name:value|...>"
// with control characters shown as \r, \n, \xNN.
inline std::string Reached() {
  Context c = Context::Current();
  std::string out = "trace=";
  out += c.span_context().trace_id().ToHex() == kWireTraceId ? "continued" : "new";
  out += " ts=";
  out += c.span_context().trace_state().header();
  out += " bg=";
  const Baggage& b = c.baggage();
  for (size_t i = 0; i < b.size(); ++i) {
    auto e = b.Entry(i);
    out.append(e.name).push_back(':');
    for (unsigned char ch : e.value) {
      if (ch == '\r') {
        out += "\\r";
      } else if (ch == '\n') {
        out += "\\n";
      } else if (ch < 0x20 || ch == 0x7f) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out.push_back(kHex[ch >> 4]);
        out.push_back(kHex[ch & 15]);
      } else {
        out.push_back(static_cast<char>(ch));
      }
    }
    out.push_back('|');
  }
  return out;
}

// The body of an HTTP response (after the blank line).
inline std::string BodyOf(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : response.substr(p + 4);
}

}  // namespace otelweb::testing
