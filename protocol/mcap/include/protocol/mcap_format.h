// Constants of the MCAP container (https://mcap.dev/spec). Our mapping of telemetry onto MCAP is
// in protocol/FORMAT.md, "Recording".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace lgs::protocol::mcap {

inline constexpr std::array<uint8_t, 8> kMagic = {0x89, 'M', 'C', 'A', 'P', '0', '\r', '\n'};
inline constexpr size_t kRecordPrefixSize = 1 + 8;  // opcode u8 + content length u64
inline constexpr size_t kFooterContentSize = 8 + 8 + 4;
inline constexpr size_t kFooterRecordSize = kRecordPrefixSize + kFooterContentSize;
// Footer record + trailing magic: the fixed tail of a complete file.
inline constexpr size_t kTailSize = kFooterRecordSize + kMagic.size();

enum class Opcode : uint8_t {
  kHeader = 0x01,
  kFooter = 0x02,
  kSchema = 0x03,
  kChannel = 0x04,
  kMessage = 0x05,
  kChunk = 0x06,
  kMessageIndex = 0x07,
  kChunkIndex = 0x08,
  kAttachment = 0x09,
  kAttachmentIndex = 0x0A,
  kStatistics = 0x0B,
  kMetadata = 0x0C,
  kMetadataIndex = 0x0D,
  kSummaryOffset = 0x0E,
  kDataEnd = 0x0F,
};

// Message header inside a Message record: channel u16, sequence u32, log time u64, publish u64.
inline constexpr size_t kMessageHeaderSize = 2 + 4 + 8 + 8;

inline constexpr const char* kCompressionNone = "";
inline constexpr const char* kCompressionZstd = "zstd";
inline constexpr const char* kCompressionLz4 = "lz4";

inline constexpr const char* kProfile = "";  // no well-known profile for protobuf
inline constexpr const char* kSchemaEncodingProtobuf = "protobuf";
inline constexpr const char* kMessageEncodingProtobuf = "protobuf";

}  // namespace lgs::protocol::mcap
