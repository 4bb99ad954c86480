#include "protocol/cfdp_pdu.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "protocol/crc16.h"

namespace lgs::protocol::cfdp {

namespace {

// Reads big-endian fields from a bounded span; every read checks what is left.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  size_t left() const { return bytes_.size() - at_; }
  bool Uint(size_t octets, uint64_t& out) {
    if (left() < octets) return false;
    out = 0;
    for (size_t i = 0; i < octets; ++i) out = (out << 8) | bytes_[at_ + i];
    at_ += octets;
    return true;
  }
  bool Octet(uint8_t& out) {
    if (left() < 1) return false;
    out = bytes_[at_++];
    return true;
  }
  bool Bytes(size_t octets, std::span<const uint8_t>& out) {
    if (left() < octets) return false;
    out = bytes_.subspan(at_, octets);
    at_ += octets;
    return true;
  }
  bool Text(size_t octets, std::string& out) {
    std::span<const uint8_t> b;
    if (!Bytes(octets, b)) return false;
    out.assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }
  std::span<const uint8_t> Rest() {
    auto rest = bytes_.subspan(at_);
    at_ = bytes_.size();
    return rest;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

void PutUint(std::string& out, uint64_t value, size_t octets) {
  for (size_t i = octets; i-- > 0;) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

bool Fits(uint64_t value, size_t octets) {
  return octets >= 8 || value < (uint64_t{1} << (8 * octets));
}

PduRejection Reject(PduError reason, std::string detail) {
  return PduRejection{reason, std::move(detail)};
}

// A TLV at `r`: type, length, value; false when truncated.
bool ReadTlv(Reader& r, Tlv& out) {
  uint8_t length = 0;
  return r.Octet(out.type) && r.Octet(length) && r.Text(length, out.value);
}

// An entity-ID TLV's value as a number (1..8 octets).
std::optional<uint64_t> EntityOf(const Tlv& tlv) {
  if (tlv.type != kTlvEntityId || tlv.value.empty() || tlv.value.size() > kMaxIdLength) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : tlv.value) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

Status PutTlv(std::string& out, uint8_t type, std::string_view value) {
  if (value.size() > 255) {
    return Status::Error(
        fmt::format("TLV type {} value of {} octets: at most 255", type, value.size()));
  }
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(value.size()));
  out.append(value);
  return Status::Ok();
}

Status PutLv(std::string& out, std::string_view value, const char* what) {
  if (value.size() > 255) {
    return Status::Error(fmt::format("{} of {} octets: at most 255", what, value.size()));
  }
  out.push_back(static_cast<char>(value.size()));
  out.append(value);
  return Status::Ok();
}

// The entity's ID in the header's ID length, or longer if it needs more octets.
void PutEntityTlv(std::string& out, uint64_t entity, uint8_t header_length) {
  const uint8_t length = std::max(header_length, OctetsFor(entity));
  out.push_back(static_cast<char>(kTlvEntityId));
  out.push_back(static_cast<char>(length));
  PutUint(out, entity, length);
}

bool IsKnownDirective(uint8_t code) {
  switch (code) {
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0C:
      return true;
    default:
      return false;
  }
}

Result<PduBody, PduRejection> DecodeDirective(const PduHeader& h, Reader& r) {
  const size_t fss = h.large_file ? 8 : 4;
  uint8_t code = 0;
  if (!r.Octet(code)) return Reject(PduError::kTruncated, "a directive PDU without its code");
  if (!IsKnownDirective(code)) {
    return Reject(PduError::kUnknownDirective, fmt::format("directive code 0x{:02X}", code));
  }
  const auto truncated = [&](const char* what) {
    return Reject(PduError::kTruncated,
                  fmt::format("{} PDU ends inside its {}",
                              DirectiveName(static_cast<DirectiveCode>(code)), what));
  };
  switch (static_cast<DirectiveCode>(code)) {
    case DirectiveCode::kMetadata: {
      MetadataPdu m;
      uint8_t flags = 0, length = 0;
      if (!r.Octet(flags)) return truncated("flags");
      // 0x40 as spacepackets-py and yamcs write it; nasa/CF writes closure as 0x80.
      m.closure_requested = (flags & 0xC0) != 0;
      m.checksum_type = static_cast<ChecksumType>(flags & 0x0F);
      if (!r.Uint(fss, m.file_size)) return truncated("file size");
      if (!r.Octet(length) || !r.Text(length, m.source_name)) return truncated("source name");
      if (!r.Octet(length) || !r.Text(length, m.destination_name)) {
        return truncated("destination name");
      }
      while (r.left() > 0) {
        Tlv tlv;
        if (!ReadTlv(r, tlv)) return truncated("options");
        m.options.push_back(std::move(tlv));
      }
      return PduBody{std::move(m)};
    }
    case DirectiveCode::kEof: {
      EofPdu e;
      uint8_t condition = 0;
      uint64_t checksum = 0;
      if (!r.Octet(condition)) return truncated("condition code");
      e.condition = static_cast<ConditionCode>(condition >> 4);
      if (!r.Uint(4, checksum)) return truncated("checksum");
      e.checksum = static_cast<uint32_t>(checksum);
      if (!r.Uint(fss, e.file_size)) return truncated("file size");
      if (r.left() > 0) {
        Tlv tlv;
        if (!ReadTlv(r, tlv)) return truncated("fault location");
        e.fault_location = EntityOf(tlv);
        if (!e.fault_location || r.left() > 0) {
          return Reject(PduError::kBadParameters,
                        "an EOF PDU's fault location must be one entity-ID TLV");
        }
      }
      return PduBody{e};
    }
    case DirectiveCode::kFinished: {
      FinishedPdu f;
      uint8_t flags = 0;
      if (!r.Octet(flags)) return truncated("status");
      // Bit 3 is spare in B-5 (B-4's "end system status", which yamcs still sets): ignored.
      f.condition = static_cast<ConditionCode>(flags >> 4);
      f.delivery = static_cast<DeliveryCode>((flags >> 2) & 0x01);
      f.status = static_cast<FileStatus>(flags & 0x03);
      while (r.left() > 0) {
        Tlv tlv;
        if (!ReadTlv(r, tlv)) return truncated("TLVs");
        if (tlv.type == kTlvFilestoreResponse && !f.fault_location) {
          f.filestore_responses.push_back(std::move(tlv));
        } else if (tlv.type == kTlvEntityId && !f.fault_location && EntityOf(tlv)) {
          f.fault_location = EntityOf(tlv);
        } else {
          return Reject(PduError::kBadParameters,
                        fmt::format("a Finished PDU with a TLV of type {} where filestore "
                                    "responses then a fault location belong",
                                    tlv.type));
        }
      }
      return PduBody{std::move(f)};
    }
    case DirectiveCode::kAck: {
      AckPdu a;
      uint8_t what = 0, state = 0;
      if (!r.Octet(what) || !r.Octet(state)) return truncated("parameters");
      const uint8_t acked = what >> 4, subtype = what & 0x0F;
      if (acked != static_cast<uint8_t>(DirectiveCode::kEof) &&
          acked != static_cast<uint8_t>(DirectiveCode::kFinished)) {
        return Reject(PduError::kBadParameters,
                      fmt::format("an ACK of directive 0x{:X}: only EOF and Finished are", acked));
      }
      if (subtype != (acked == static_cast<uint8_t>(DirectiveCode::kFinished) ? 1 : 0)) {
        return Reject(PduError::kBadParameters,
                      fmt::format("an ACK of {} with subtype {}",
                                  DirectiveName(static_cast<DirectiveCode>(acked)), subtype));
      }
      a.acknowledged = static_cast<DirectiveCode>(acked);
      a.condition = static_cast<ConditionCode>(state >> 4);
      a.status = static_cast<TransactionStatus>(state & 0x03);
      if (r.left() > 0) return Reject(PduError::kBadParameters, "an ACK PDU longer than 3 octets");
      return PduBody{a};
    }
    case DirectiveCode::kNak: {
      NakPdu n;
      if (!r.Uint(fss, n.scope_start) || !r.Uint(fss, n.scope_end)) return truncated("scope");
      if (n.scope_start > n.scope_end) {
        return Reject(PduError::kBadParameters,
                      fmt::format("a NAK scope {}..{} that ends before it starts", n.scope_start,
                                  n.scope_end));
      }
      if (r.left() % (2 * fss) != 0) {
        return Reject(PduError::kBadParameters,
                      fmt::format("a NAK with {} octets of segment requests: not whole pairs of "
                                  "{}-octet offsets",
                                  r.left(), fss));
      }
      n.segments.reserve(r.left() / (2 * fss));  // bounded by the bytes there are
      while (r.left() > 0) {
        SegmentRequest s;
        static_cast<void>(r.Uint(fss, s.start));
        static_cast<void>(r.Uint(fss, s.end));
        if (s.start > s.end) {
          return Reject(
              PduError::kBadParameters,
              fmt::format("a NAK segment {}..{} that ends before it starts", s.start, s.end));
        }
        n.segments.push_back(s);
      }
      return PduBody{std::move(n)};
    }
    case DirectiveCode::kPrompt: {
      uint8_t flags = 0;
      if (!r.Octet(flags)) return truncated("response flag");
      if (r.left() > 0)
        return Reject(PduError::kBadParameters, "a Prompt PDU longer than 2 octets");
      return PduBody{PromptPdu{(flags & 0x80) != 0}};
    }
    case DirectiveCode::kKeepAlive: {
      KeepAlivePdu k;
      if (!r.Uint(fss, k.progress)) return truncated("progress");
      if (r.left() > 0)
        return Reject(PduError::kBadParameters, "a Keep Alive PDU with extra octets");
      return PduBody{k};
    }
  }
  return Reject(PduError::kUnknownDirective, fmt::format("directive code 0x{:02X}", code));
}

Result<PduBody, PduRejection> DecodeFileData(const PduHeader& h, Reader& r) {
  FileDataPdu d;
  if (h.segment_metadata) {
    uint8_t octet = 0;
    if (!r.Octet(octet))
      return Reject(PduError::kTruncated, "File Data PDU without its segment octet");
    d.record_continuation = octet >> 6;
    if (!r.Text(octet & 0x3F, d.segment_metadata)) {
      return Reject(PduError::kTruncated, "File Data PDU ends inside its segment metadata");
    }
  }
  if (!r.Uint(h.large_file ? 8 : 4, d.offset)) {
    return Reject(PduError::kTruncated, "File Data PDU ends inside its offset");
  }
  d.data = r.Rest();
  // The end must be a size the PDU's file-size field could state (found by cfdp_pdu_fuzz: a
  // 32-bit offset of 0xFFFFFFFF with data ends past any 32-bit file).
  const uint64_t largest = h.large_file ? std::numeric_limits<uint64_t>::max() : 0xFFFFFFFFull;
  if (d.data.size() > largest || d.offset > largest - d.data.size()) {
    return Reject(PduError::kBadParameters,
                  fmt::format("File Data at offset {} with {} octets ends past the largest file "
                              "its {}-bit sizes can state",
                              d.offset, d.data.size(), h.large_file ? 64 : 32));
  }
  return PduBody{d};
}

}  // namespace

std::string_view ErrorName(PduError error) {
  switch (error) {
    case PduError::kTruncated:
      return "truncated";
    case PduError::kBadVersion:
      return "bad_version";
    case PduError::kCrcMismatch:
      return "crc_mismatch";
    case PduError::kUnknownDirective:
      return "unknown_directive";
    case PduError::kBadParameters:
      return "bad_parameters";
    case PduError::kFieldTooLong:
      return "field_too_long";
  }
  return "unknown";
}

std::string_view ConditionName(ConditionCode c) {
  switch (c) {
    case ConditionCode::kNoError:
      return "no_error";
    case ConditionCode::kPositiveAckLimitReached:
      return "positive_ack_limit_reached";
    case ConditionCode::kKeepAliveLimitReached:
      return "keep_alive_limit_reached";
    case ConditionCode::kInvalidTransmissionMode:
      return "invalid_transmission_mode";
    case ConditionCode::kFilestoreRejection:
      return "filestore_rejection";
    case ConditionCode::kFileChecksumFailure:
      return "file_checksum_failure";
    case ConditionCode::kFileSizeError:
      return "file_size_error";
    case ConditionCode::kNakLimitReached:
      return "nak_limit_reached";
    case ConditionCode::kInactivityDetected:
      return "inactivity_detected";
    case ConditionCode::kInvalidFileStructure:
      return "invalid_file_structure";
    case ConditionCode::kCheckLimitReached:
      return "check_limit_reached";
    case ConditionCode::kUnsupportedChecksumType:
      return "unsupported_checksum_type";
    case ConditionCode::kSuspendRequestReceived:
      return "suspend_request_received";
    case ConditionCode::kCancelRequestReceived:
      return "cancel_request_received";
  }
  return "reserved";
}

std::string_view DirectiveName(DirectiveCode code) {
  switch (code) {
    case DirectiveCode::kEof:
      return "eof";
    case DirectiveCode::kFinished:
      return "finished";
    case DirectiveCode::kAck:
      return "ack";
    case DirectiveCode::kMetadata:
      return "metadata";
    case DirectiveCode::kNak:
      return "nak";
    case DirectiveCode::kPrompt:
      return "prompt";
    case DirectiveCode::kKeepAlive:
      return "keep_alive";
  }
  return "reserved";
}

uint8_t OctetsFor(uint64_t value) {
  uint8_t n = 1;
  while (n < 8 && value >= (uint64_t{1} << (8 * n))) ++n;
  return n;
}

Result<Pdu, PduRejection> DecodePdu(std::span<const uint8_t> bytes) {
  if (bytes.size() < 4) {
    return Reject(PduError::kTruncated,
                  fmt::format("{} octets: a PDU header is at least 7", bytes.size()));
  }
  Pdu pdu;
  PduHeader& h = pdu.header;
  const uint8_t b0 = bytes[0], b3 = bytes[3];
  if ((b0 >> 5) != kVersion) {
    return Reject(PduError::kBadVersion, fmt::format("version {} (expected 1)", b0 >> 5));
  }
  h.type = static_cast<PduType>((b0 >> 4) & 1);
  h.direction = static_cast<Direction>((b0 >> 3) & 1);
  h.mode = static_cast<TransmissionMode>((b0 >> 2) & 1);
  h.crc = (b0 & 0x02) != 0;
  h.large_file = (b0 & 0x01) != 0;
  const size_t data_length = (size_t{bytes[1]} << 8) | bytes[2];
  h.segmentation_control = (b3 & 0x80) != 0;
  h.entity_id_length = static_cast<uint8_t>(((b3 >> 4) & 0x07) + 1);
  h.segment_metadata = (b3 & 0x08) != 0;
  h.sequence_length = static_cast<uint8_t>((b3 & 0x07) + 1);
  const size_t header_size = h.size();
  if (bytes.size() < header_size + data_length) {
    return Reject(PduError::kTruncated, fmt::format("{} octets, the header says {} + {}",
                                                    bytes.size(), header_size, data_length));
  }
  Reader ids(bytes.subspan(4, header_size - 4));
  static_cast<void>(ids.Uint(h.entity_id_length, h.source));
  static_cast<void>(ids.Uint(h.sequence_length, h.sequence));
  static_cast<void>(ids.Uint(h.entity_id_length, h.destination));
  size_t body_length = data_length;
  if (h.crc) {
    if (data_length < 2) return Reject(PduError::kTruncated, "the CRC flag is set and no CRC fits");
    body_length -= 2;
    const size_t end = header_size + body_length;
    const uint16_t expected = static_cast<uint16_t>((bytes[end] << 8) | bytes[end + 1]);
    const uint16_t actual = Crc16CcittFalse(bytes.first(end));
    if (expected != actual) {
      return Reject(PduError::kCrcMismatch,
                    fmt::format("CRC 0x{:04X}, computed 0x{:04X}", expected, actual));
    }
  }
  if (h.type == PduType::kFileDirective && h.segment_metadata) {
    return Reject(PduError::kBadParameters, "a directive PDU with the segment metadata flag");
  }
  Reader r(bytes.subspan(header_size, body_length));
  auto body = h.type == PduType::kFileData ? DecodeFileData(h, r) : DecodeDirective(h, r);
  if (!body.ok()) return body.error();
  pdu.body = std::move(*body);
  pdu.size = header_size + data_length;
  return pdu;
}

Status EncodePdu(const PduHeader& header, const PduBody& body, std::string& out) {
  PduHeader h = header;
  if (h.entity_id_length < 1 || h.entity_id_length > kMaxIdLength || h.sequence_length < 1 ||
      h.sequence_length > kMaxIdLength) {
    return Status::Error(fmt::format("entity ID length {} and sequence length {}: each 1..8",
                                     h.entity_id_length, h.sequence_length));
  }
  if (!Fits(h.source, h.entity_id_length) || !Fits(h.destination, h.entity_id_length) ||
      !Fits(h.sequence, h.sequence_length)) {
    return Status::Error("an entity ID or the sequence number does not fit its length");
  }
  const bool file_data = std::holds_alternative<FileDataPdu>(body);
  h.type = file_data ? PduType::kFileData : PduType::kFileDirective;
  if (!file_data) h.segment_metadata = false;
  const size_t fss = h.large_file ? 8 : 4;
  const auto fits_fss = [&](uint64_t v) { return Fits(v, fss); };
  std::string data;
  Status s = Status::Ok();
  if (const auto* d = std::get_if<FileDataPdu>(&body)) {
    if (h.segment_metadata) {
      if (d->segment_metadata.size() > 63 || d->record_continuation > 3) {
        return Status::Error("segment metadata is at most 63 octets, record continuation 0..3");
      }
      data.push_back(static_cast<char>((d->record_continuation << 6) | d->segment_metadata.size()));
      data.append(d->segment_metadata);
    }
    if (!fits_fss(d->offset) || !fits_fss(d->offset + d->data.size())) {
      return Status::Error(fmt::format("offset {} needs the large-file flag", d->offset));
    }
    PutUint(data, d->offset, fss);
    data.append(reinterpret_cast<const char*>(d->data.data()), d->data.size());
  } else if (const auto* m = std::get_if<MetadataPdu>(&body)) {
    data.push_back(static_cast<char>(DirectiveCode::kMetadata));
    data.push_back(static_cast<char>((m->closure_requested ? 0x40 : 0) |
                                     (static_cast<uint8_t>(m->checksum_type) & 0x0F)));
    if (!fits_fss(m->file_size)) return Status::Error("a file size that needs the large-file flag");
    PutUint(data, m->file_size, fss);
    if (s = PutLv(data, m->source_name, "source file name"); !s.ok()) return s;
    if (s = PutLv(data, m->destination_name, "destination file name"); !s.ok()) return s;
    for (const Tlv& t : m->options) {
      if (s = PutTlv(data, t.type, t.value); !s.ok()) return s;
    }
  } else if (const auto* e = std::get_if<EofPdu>(&body)) {
    data.push_back(static_cast<char>(DirectiveCode::kEof));
    data.push_back(static_cast<char>(static_cast<uint8_t>(e->condition) << 4));
    PutUint(data, e->checksum, 4);
    if (!fits_fss(e->file_size)) return Status::Error("a file size that needs the large-file flag");
    PutUint(data, e->file_size, fss);
    if (e->condition != ConditionCode::kNoError && e->fault_location) {
      PutEntityTlv(data, *e->fault_location, h.entity_id_length);
    }
  } else if (const auto* f = std::get_if<FinishedPdu>(&body)) {
    data.push_back(static_cast<char>(DirectiveCode::kFinished));
    data.push_back(static_cast<char>((static_cast<uint8_t>(f->condition) << 4) |
                                     (static_cast<uint8_t>(f->delivery) << 2) |
                                     static_cast<uint8_t>(f->status)));
    for (const Tlv& t : f->filestore_responses) {
      if (s = PutTlv(data, kTlvFilestoreResponse, t.value); !s.ok()) return s;
    }
    if (f->fault_location) PutEntityTlv(data, *f->fault_location, h.entity_id_length);
  } else if (const auto* a = std::get_if<AckPdu>(&body)) {
    if (a->acknowledged != DirectiveCode::kEof && a->acknowledged != DirectiveCode::kFinished) {
      return Status::Error("only EOF and Finished PDUs are acknowledged");
    }
    const uint8_t subtype = a->acknowledged == DirectiveCode::kFinished ? 1 : 0;
    data.push_back(static_cast<char>(DirectiveCode::kAck));
    data.push_back(static_cast<char>((static_cast<uint8_t>(a->acknowledged) << 4) | subtype));
    data.push_back(static_cast<char>((static_cast<uint8_t>(a->condition) << 4) |
                                     static_cast<uint8_t>(a->status)));
  } else if (const auto* n = std::get_if<NakPdu>(&body)) {
    data.push_back(static_cast<char>(DirectiveCode::kNak));
    if (!fits_fss(n->scope_end)) return Status::Error("a NAK scope that needs the large-file flag");
    PutUint(data, n->scope_start, fss);
    PutUint(data, n->scope_end, fss);
    for (const SegmentRequest& r : n->segments) {
      if (!fits_fss(r.end)) return Status::Error("a NAK segment that needs the large-file flag");
      PutUint(data, r.start, fss);
      PutUint(data, r.end, fss);
    }
  } else if (const auto* p = std::get_if<PromptPdu>(&body)) {
    data.push_back(static_cast<char>(DirectiveCode::kPrompt));
    data.push_back(static_cast<char>(p->keep_alive ? 0x80 : 0));
  } else if (const auto* k = std::get_if<KeepAlivePdu>(&body)) {
    data.push_back(static_cast<char>(DirectiveCode::kKeepAlive));
    if (!fits_fss(k->progress)) return Status::Error("progress that needs the large-file flag");
    PutUint(data, k->progress, fss);
  }
  const size_t data_length = data.size() + (h.crc ? 2 : 0);
  if (data_length > kMaxDataFieldLength) {
    return Status::Error(
        fmt::format("a PDU data field of {} octets: at most {}", data_length, kMaxDataFieldLength));
  }
  const size_t start = out.size();
  out.push_back(static_cast<char>((kVersion << 5) | (static_cast<uint8_t>(h.type) << 4) |
                                  (static_cast<uint8_t>(h.direction) << 3) |
                                  (static_cast<uint8_t>(h.mode) << 2) | (h.crc ? 0x02 : 0) |
                                  (h.large_file ? 0x01 : 0)));
  PutUint(out, data_length, 2);
  out.push_back(static_cast<char>((h.segmentation_control ? 0x80 : 0) |
                                  ((h.entity_id_length - 1) << 4) |
                                  (h.segment_metadata ? 0x08 : 0) | (h.sequence_length - 1)));
  PutUint(out, h.source, h.entity_id_length);
  PutUint(out, h.sequence, h.sequence_length);
  PutUint(out, h.destination, h.entity_id_length);
  out.append(data);
  if (h.crc) {
    const auto* b = reinterpret_cast<const uint8_t*>(out.data()) + start;
    PutUint(out, Crc16CcittFalse({b, out.size() - start}), 2);
  }
  return Status::Ok();
}

}  // namespace lgs::protocol::cfdp
