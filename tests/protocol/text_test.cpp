// Untrusted text made safe for JSON, terminals and logs.
#include "protocol/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lgs::text {
namespace {

TEST(Text, ValidUtf8IsRecognisedAndEveryMalformedClassIsNot) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x9A\x80"));  // é € 🚀
  for (const char* bad : {"\xFF", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "a\x80z", "\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(Text, SanitizedTextIsValidUtf8ThatTheJsonLibraryAccepts) {
  const std::string bad = "x\xFF y\xC3 \xF4";
  const std::string clean = SanitizeUtf8(bad);
  EXPECT_TRUE(IsValidUtf8(clean));
  EXPECT_EQ(clean, "x\xEF\xBF\xBD y\xEF\xBF\xBD \xEF\xBF\xBD");
  EXPECT_NO_THROW(nlohmann::json(clean).dump());
  // Raw, the same text makes nlohmann throw; JsonDump replaces instead.
  EXPECT_THROW(nlohmann::json(bad).dump(), nlohmann::json::type_error);
  EXPECT_EQ(JsonDump(nlohmann::json{{"k", bad}}),
            "{\"k\":\"x\xEF\xBF\xBD y\xEF\xBF\xBD \xEF\xBF\xBD\"}");
}

TEST(Text, ACutNeverSplitsACharacter) {
  // 31 ASCII bytes and a two-byte character: cut at 32, the character goes whole.
  const std::string op = std::string(31, 'o') + "\xC3\xA9";
  const std::string cut = SanitizeUtf8(op, 32);
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_EQ(cut, std::string(31, 'o') + "\xE2\x80\xA6");
  EXPECT_EQ(SanitizeUtf8(op, 33), op);
  for (size_t limit = 0; limit < 12; ++limit) {
    EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xF0\x9F\x9A\x80\xE2\x82\xAC\xC3\xA9", limit))) << limit;
  }
}

TEST(Text, TerminalEscapesLeaveNoControlCharacterAndKeepPrintableText) {
  const std::string forged =
      "\x1B[2J\x1B]0;owned\x07\nLINK  999 packets\r\t\x7F\xC2\x9B"
      "1m";
  const std::string shown = EscapeForTerminal(forged);
  for (unsigned char c : shown) {
    EXPECT_TRUE(c >= 0x20 && c != 0x7F) << static_cast<int>(c);
  }
  EXPECT_EQ(shown, "\\e[2J\\e]0;owned\\x07\\nLINK  999 packets\\r\\t\\x7F\\u009B1m");
  EXPECT_EQ(EscapeForTerminal("Temp 23 \xC2\xB0"
                              "C, \xE2\x82\xAC"),
            "Temp 23 \xC2\xB0"
            "C, \xE2\x82\xAC");
  EXPECT_EQ(EscapeForTerminal("bad \xFF byte"), "bad \\xFF byte");
  EXPECT_EQ(EscapeForTerminal(std::string(50, 'a'), 10), std::string(10, 'a') + "\xE2\x80\xA6");
}

}  // namespace
}  // namespace lgs::text

namespace lgs::text {
namespace {

// RFC 4648's test vectors, §10.
TEST(Text, Base64IsRfc4648s) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string("\xff\x00\xfe", 3)), "/wD+");
}

}  // namespace
}  // namespace lgs::text
