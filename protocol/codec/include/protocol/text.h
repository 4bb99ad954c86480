// Text from outside, made safe for where it goes: JSON (which must be valid UTF-8), a terminal
// (where control characters are commands) and log lines (bounded, cut on a character boundary).
//
// Everything that came off the link, out of a file or from a client is untrusted text: an event
// message, a channel name in a recording, an HTTP path, a control request. These functions never
// throw and never read past the view they are given. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lgs::text {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// `s` as valid UTF-8: each invalid byte becomes U+FFFD. When `max_bytes` is given and `s` is
// longer, it is cut on a character boundary at most `max_bytes` long and "…" is appended, so a
// cut never splits a multi-byte character.
std::string SanitizeUtf8(std::string_view s, size_t max_bytes = std::string_view::npos);

// `s` for a terminal: C0 and C1 control characters, DEL and invalid UTF-8 bytes become visible
// escapes (\n, \t, \e, \xNN, \u0085), so text from the link can neither move the cursor, clear
// the screen, set the window title nor start a line of its own. Printable UTF-8 passes unchanged.
std::string EscapeForTerminal(std::string_view s, size_t max_bytes = std::string_view::npos);

// `bytes` in base64 (RFC 4648, with padding): binary data inside JSON, a data: URL.
std::string Base64(std::string_view bytes);

// nlohmann::json's dump() that cannot throw on invalid UTF-8 (it is replaced by U+FFFD). A
// template so this header does not depend on the JSON library.
template <typename Json>
std::string JsonDump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace lgs::text
