// RE2 compilation of user patterns (see pattern.h).
#include "http/pattern.h"

#include "otelweb/diagnostics.h"

namespace otelweb::http::internal {

std::string PatternError(std::string_view pattern, bool case_insensitive) {
  CompiledPattern probe(pattern, case_insensitive);
  if (probe.re.ok()) return {};
  std::string e = probe.re.error();
  return e.empty() ? std::string("rejected") : e;
}

std::shared_ptr<const CompiledPattern> CompileJoined(const std::string& joined,
                                                     bool case_insensitive) {
  auto p = std::make_shared<const CompiledPattern>(joined, case_insensitive);
  if (!p->re.ok()) return nullptr;
  return p;
}

void WarnRejectedPattern(std::string_view setting, std::string_view pattern,
                         std::string_view reason) {
  std::string m;
  m.append(setting).append(": the pattern '").append(pattern);
  m.append("' is not valid RE2 syntax (").append(reason);
  m.append("); it is skipped. Patterns are RE2 regular expressions (linear-time): rewrite it without "
           "backreferences (\\1) or lookaround ((?=, (?!, (?<=, (?<!); see docs/httplib.md, "
           "\"Pattern syntax\"");
  Log(LogLevel::kWarning, m);
}

}  // namespace otelweb::http::internal
