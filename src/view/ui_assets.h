// The viewer's web page as files compiled into otelweb-view.
//
// UiAssets() lists every file of the page (index.html, /assets/...): the
// generated implementation comes from web/view/dist at build time (the
// OTELWEB_VIEW_UI_ASSETS_CC CMake variable names it); without it,
// ui_assets_fallback.cc provides one index.html that says how to build the
// page. `otelweb-view --ui-dir DIR` serves files from DIR instead.
//
// Ownership: the returned views point into static storage of the program.
// Thread-safety: UiAssets() may be called from any thread at any time.
#pragma once

#include <span>
#include <string_view>

namespace otelweb::view {

struct UiAsset {
  std::string_view path;          // starts with "/", e.g. "/index.html", "/assets/index-abc.js"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
};

std::span<const UiAsset> UiAssets() noexcept;

}  // namespace otelweb::view
