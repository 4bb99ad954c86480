// CFDP PDUs (CCSDS 727.0-B-5): the fixed header, the file directives (Metadata, EOF, Finished,
// ACK, NAK, Prompt, Keep Alive) and File Data, as values; DecodePdu reads one from bytes and
// EncodePdu writes one. The layouts follow the blue book as nasa/CF (fsw/src/cf_cfdp_pdu.h,
// cf_codec.c), us-irs/spacepackets-py (cfdp/pdu/), us-irs/cfdp-py and yamcs (yamcs-core
// .../cfdp/pdu/) agree on them; the reference encodings of spacepackets-py b9c6bb1 are the unit
// tests' ground truth.
//
// Decoding is strict and bounded: every length is checked against the bytes there are, nothing is
// allocated in proportion to a length or a file size a PDU claims, and each refusal names its
// reason. A PDU may be followed by trailer bytes (a space packet's length is not the PDU's); the
// header's data field length says where the PDU ends. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/status.h"

namespace lgs::protocol::cfdp {

enum class PduType : uint8_t { kFileDirective = 0, kFileData = 1 };
enum class Direction : uint8_t { kTowardReceiver = 0, kTowardSender = 1 };
enum class TransmissionMode : uint8_t { kAcknowledged = 0, kUnacknowledged = 1 };  // class 2, 1

enum class DirectiveCode : uint8_t {
  kEof = 0x04,
  kFinished = 0x05,
  kAck = 0x06,
  kMetadata = 0x07,
  kNak = 0x08,
  kPrompt = 0x09,
  kKeepAlive = 0x0C,
};

enum class ConditionCode : uint8_t {
  kNoError = 0,
  kPositiveAckLimitReached = 1,
  kKeepAliveLimitReached = 2,
  kInvalidTransmissionMode = 3,
  kFilestoreRejection = 4,
  kFileChecksumFailure = 5,
  kFileSizeError = 6,
  kNakLimitReached = 7,
  kInactivityDetected = 8,
  kInvalidFileStructure = 9,
  kCheckLimitReached = 10,
  kUnsupportedChecksumType = 11,
  kSuspendRequestReceived = 14,
  kCancelRequestReceived = 15,
};

// The Metadata PDU's checksum type (SANA registry); the EOF carries the value.
enum class ChecksumType : uint8_t {
  kModular = 0,
  kProximity1Crc32 = 1,
  kCrc32c = 2,
  kCrc32 = 3,
  kNull = 15,
};

enum class DeliveryCode : uint8_t { kComplete = 0, kIncomplete = 1 };
enum class FileStatus : uint8_t {
  kDiscardedDeliberately = 0,
  kDiscardedByFilestore = 1,
  kRetained = 2,
  kUnreported = 3,
};
enum class TransactionStatus : uint8_t {
  kUndefined = 0,
  kActive = 1,
  kTerminated = 2,
  kUnrecognized = 3,
};

// TLV types of the options and responses.
inline constexpr uint8_t kTlvFilestoreRequest = 0;
inline constexpr uint8_t kTlvFilestoreResponse = 1;
inline constexpr uint8_t kTlvMessageToUser = 2;
inline constexpr uint8_t kTlvFaultHandlerOverride = 4;
inline constexpr uint8_t kTlvFlowLabel = 5;
inline constexpr uint8_t kTlvEntityId = 6;

inline constexpr uint8_t kVersion = 1;  // "001": 727.0-B-4 and -B-5
inline constexpr size_t kMaxIdLength = 8;
inline constexpr size_t kMaxDataFieldLength = 0xFFFF;

struct PduHeader {
  PduType type = PduType::kFileDirective;
  Direction direction = Direction::kTowardReceiver;
  TransmissionMode mode = TransmissionMode::kAcknowledged;
  bool crc = false;         // a CRC-16 ends the PDU
  bool large_file = false;  // file sizes and offsets are 64-bit
  bool segmentation_control = false;
  bool segment_metadata = false;  // File Data PDUs only
  uint8_t entity_id_length = 1;   // octets, 1..8, the same for source and destination
  uint8_t sequence_length = 1;    // octets of the transaction sequence number, 1..8
  uint64_t source = 0;            // the transaction's source entity: the file sender
  uint64_t sequence = 0;          // (source, sequence) names the transaction
  uint64_t destination = 0;       // the file receiver

  size_t size() const { return 4 + 2 * size_t{entity_id_length} + sequence_length; }
};

struct Tlv {
  uint8_t type = 0;
  std::string value;  // at most 255 octets
  bool operator==(const Tlv&) const = default;
};

struct MetadataPdu {
  bool closure_requested = false;
  ChecksumType checksum_type = ChecksumType::kModular;
  uint64_t file_size = 0;
  std::string source_name, destination_name;  // at most 255 octets each
  std::vector<Tlv> options;
};

struct FileDataPdu {
  uint8_t record_continuation = 0;  // with segment metadata: 0 none, 1 start, 2 end, 3 both
  std::string segment_metadata;     // at most 63 octets
  uint64_t offset = 0;
  // Decoding: points into the bytes decoded (valid while they are). Encoding: what to write.
  std::span<const uint8_t> data;
};

struct EofPdu {
  ConditionCode condition = ConditionCode::kNoError;
  uint32_t checksum = 0;
  uint64_t file_size = 0;
  std::optional<uint64_t> fault_location;  // entity ID; absent when there is no error
};

struct FinishedPdu {
  ConditionCode condition = ConditionCode::kNoError;
  DeliveryCode delivery = DeliveryCode::kComplete;
  FileStatus status = FileStatus::kRetained;
  std::vector<Tlv> filestore_responses;
  std::optional<uint64_t> fault_location;
};

struct AckPdu {
  DirectiveCode acknowledged = DirectiveCode::kEof;   // kEof or kFinished
  ConditionCode condition = ConditionCode::kNoError;  // of the PDU acknowledged
  TransactionStatus status = TransactionStatus::kActive;
};

struct SegmentRequest {
  uint64_t start = 0, end = 0;  // [start, end) of the file; (0, 0) asks for the Metadata
  bool operator==(const SegmentRequest&) const = default;
};

struct NakPdu {
  uint64_t scope_start = 0, scope_end = 0;
  std::vector<SegmentRequest> segments;
};

struct PromptPdu {
  bool keep_alive = false;  // respond with Keep Alive (true) or NAK (false)
};

struct KeepAlivePdu {
  uint64_t progress = 0;
};

using PduBody = std::variant<MetadataPdu, FileDataPdu, EofPdu, FinishedPdu, AckPdu, NakPdu,
                             PromptPdu, KeepAlivePdu>;

struct Pdu {
  PduHeader header;
  PduBody body;
  size_t size = 0;  // octets the PDU took (decoding), trailer bytes after it not counted
};

// Why a PDU was refused.
enum class PduError : uint8_t {
  kTruncated,         // fewer bytes than the header or its data field length says
  kBadVersion,        // not version 1
  kCrcMismatch,       // the CRC-16 does not match
  kUnknownDirective,  // a reserved directive code
  kBadParameters,     // a field inconsistent with the others or with the data field
  kFieldTooLong,      // a name, TLV or segment metadata past its limit when encoding
};
std::string_view ErrorName(PduError error);  // "truncated", "crc_mismatch", ...

struct PduRejection {
  PduError reason = PduError::kTruncated;
  std::string detail;
};

[[nodiscard]] Result<Pdu, PduRejection> DecodePdu(std::span<const uint8_t> bytes);

// Appends the PDU to `out` (the header's type follows the body; its data field length and, with
// the CRC flag, the CRC are computed). Fails on values the layout cannot carry.
[[nodiscard]] Status EncodePdu(const PduHeader& header, const PduBody& body, std::string& out);

std::string_view ConditionName(ConditionCode condition);  // "no_error", "file_checksum_failure"
std::string_view DirectiveName(DirectiveCode code);       // "eof", "metadata", ...
// The smallest number of octets (1..8) that holds `value`: entity IDs and sequence numbers.
uint8_t OctetsFor(uint64_t value);

}  // namespace lgs::protocol::cfdp
