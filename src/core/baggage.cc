// W3C Baggage.
#include "otelweb/baggage.h"

#include <atomic>
#include <new>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/http_token.h"

namespace otelweb {

struct Baggage::Rep {
  std::atomic<int> refs{1};
  struct E {
    std::string name, value, metadata;
  };
  std::vector<E> entries;
};

void Baggage::Ref(Rep* rep) noexcept { rep->refs.fetch_add(1, std::memory_order_relaxed); }

void Baggage::Drop(Rep* rep) noexcept {
  if (rep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep;
}

size_t Baggage::size() const noexcept { return rep_ ? rep_->entries.size() : 0; }

Baggage::EntryView Baggage::Entry(size_t i) const noexcept {
  const auto& e = rep_->entries[i];
  return {e.name, e.value, e.metadata};
}

std::string_view Baggage::Get(std::string_view name) const noexcept {
  if (!rep_) return {};
  for (const auto& e : rep_->entries) {
    if (e.name == name) return e.value;
  }
  return {};
}

bool Baggage::Contains(std::string_view name) const noexcept {
  if (!rep_) return false;
  for (const auto& e : rep_->entries) {
    if (e.name == name) return true;
  }
  return false;
}

namespace {

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool IsBaggageOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E);
}

std::string_view Ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void AppendEncoded(std::string& out, std::string_view v) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (IsBaggageOctet(c) && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace

Baggage Baggage::FromHeader(std::string_view header) {
  try {
    auto* rep = new Rep;
    Baggage result(rep);
    size_t total = 0;
    std::string_view rest = header;
    while (!rest.empty() || rest.data() == header.data()) {
      size_t comma = rest.find(',');
      std::string_view member = rest.substr(0, comma);
      if (comma == std::string_view::npos) rest = {};
      else rest.remove_prefix(comma + 1);
      if (member.size() > kMaxMemberBytes) {
        if (comma == std::string_view::npos) break;
        continue;
      }
      size_t semi = member.find(';');
      std::string_view kv = member.substr(0, semi);
      std::string_view props = semi == std::string_view::npos ? std::string_view() : Ows(member.substr(semi + 1));
      size_t eq = kv.find('=');
      if (eq != std::string_view::npos) {
        std::string_view name = Ows(kv.substr(0, eq));
        std::string_view raw = Ows(kv.substr(eq + 1));
        bool ok = internal::IsToken(name);
        for (unsigned char c : raw) ok = ok && (IsBaggageOctet(c) || c == '%');
        std::string value;
        if (ok && config::PercentDecode(raw, &value) && rep->entries.size() < kMaxMembers &&
            total + member.size() <= kMaxTotalBytes) {
          total += member.size() + 1;
          bool replaced = false;
          for (auto& e : rep->entries) {
            if (e.name == name) {
              e.value = value;
              e.metadata = std::string(props);
              replaced = true;
            }
          }
          if (!replaced) rep->entries.push_back({std::string(name), std::move(value), std::string(props)});
        }
      }
      if (comma == std::string_view::npos) break;
    }
    if (rep->entries.empty()) return Baggage();
    return result;
  } catch (...) {
    return Baggage();
  }
}

Baggage Baggage::Set(std::string_view name, std::string_view value, std::string_view metadata) const {
  if (!internal::IsToken(name)) return *this;
  auto* rep = new Rep;
  Baggage result(rep);
  if (rep_) {
    for (const auto& e : rep_->entries) {
      if (e.name != name) rep->entries.push_back(e);
    }
  }
  rep->entries.push_back({std::string(name), std::string(value), std::string(metadata)});
  return result;
}

Baggage Baggage::Delete(std::string_view name) const {
  if (!Contains(name)) return *this;
  auto* rep = new Rep;
  Baggage result(rep);
  for (const auto& e : rep_->entries) {
    if (e.name != name) rep->entries.push_back(e);
  }
  if (rep->entries.empty()) return Baggage();
  return result;
}

std::string Baggage::ToHeader() const {
  std::string out;
  if (!rep_) return out;
  size_t members = 0;
  for (const auto& e : rep_->entries) {
    std::string m = e.name + "=";
    AppendEncoded(m, e.value);
    if (!e.metadata.empty()) m.append(";").append(e.metadata);
    if (m.size() > kMaxMemberBytes) continue;
    if (members == kMaxMembers || out.size() + m.size() + (out.empty() ? 0 : 1) > kMaxTotalBytes) break;
    if (!out.empty()) out += ',';
    out += m;
    ++members;
  }
  return out;
}

}  // namespace otelweb
