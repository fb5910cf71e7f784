// The compiled regular expression behind UrlExcluder and HeaderCapture
// (private: RE2 stays out of the public headers, which only name
// http::internal::CompiledPattern).
//
// User patterns are compiled with RE2, whose matching time is linear in the
// input (an automaton, no backtracking), so no pattern/input pair can make a
// request cost super-linear CPU (issue 12 §1). RE2 accepts Perl/ECMAScript-like
// syntax without backreferences and lookaround (docs/httplib.md, "Pattern
// syntax"). Input is matched as bytes (Latin-1), as std::regex did.
//
// Ownership: shared, immutable after construction. Thread-safety: matching
// through a const RE2 is safe from any number of threads.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

namespace otelweb::http::internal {

struct CompiledPattern {
  explicit CompiledPattern(std::string_view pattern, bool case_insensitive)
      : re(re2::StringPiece(pattern.data(), pattern.size()), Options(case_insensitive)) {}
  re2::RE2 re;

  static re2::RE2::Options Options(bool case_insensitive) {
    re2::RE2::Options o;
    o.set_encoding(re2::RE2::Options::EncodingLatin1);
    o.set_case_sensitive(!case_insensitive);
    o.set_log_errors(false);  // our own warning names the setting instead
    return o;
  }
  // RE2 does not throw; the catch only keeps an out-of-memory from
  // escaping a noexcept request path (no match then).
  bool FullMatch(std::string_view s) const noexcept {
    try {
      return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), re);
    } catch (...) {
      return false;
    }
  }
  bool PartialMatch(std::string_view s) const noexcept {
    try {
      return re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), re);
    } catch (...) {
      return false;
    }
  }
};

// Checks one user pattern. Returns "" when RE2 accepts it, else RE2's reason
// (e.g. "invalid perl operator: (?=").
std::string PatternError(std::string_view pattern, bool case_insensitive);

// Compiles `joined` (already validated entries joined with '|'); null if RE2
// still rejects it (e.g. over its memory budget).
std::shared_ptr<const CompiledPattern> CompileJoined(const std::string& joined,
                                                     bool case_insensitive);

// The warning for a rejected pattern: names the setting, RE2's reason and
// what to do; the pattern is skipped.
void WarnRejectedPattern(std::string_view setting, std::string_view pattern,
                         std::string_view reason);

}  // namespace otelweb::http::internal
