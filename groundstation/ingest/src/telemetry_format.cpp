#include "groundstation/telemetry_format.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "protocol/cfdp_pdu.h"
#include "protocol/text.h"
#include "rover/v1/camera.pb.h"
#include "rover/v1/event.pb.h"
#include "rover/v1/file_delivery.pb.h"
#include "rover/v1/housekeeping.pb.h"
#include "rover/v1/navigation.pb.h"
#include "rover/v1/radiation.pb.h"
#include "rover/v1/soil.pb.h"
#include "rover/v1/terrain.pb.h"
#include "rover/v1/verification.pb.h"

namespace lgs::station {

std::string_view ShortEnum(const std::string& name, std::string_view prefix) {
  std::string_view v = name;
  if (v.starts_with(prefix)) v.remove_prefix(prefix.size());
  return v;
}

std::optional<rover::v1::RoverMode> ModeChangedTo(const rover::v1::Event& event) {
  const auto mode = static_cast<int>(event.value());
  if (event.kind() != rover::v1::EVENT_KIND_MODE_CHANGE || !rover::v1::RoverMode_IsValid(mode) ||
      static_cast<double>(mode) != event.value()) {
    return std::nullopt;
  }
  return static_cast<rover::v1::RoverMode>(mode);
}

namespace {

using protocol::StreamId;

std::string Housekeeping(const rover::v1::Housekeeping& m) {
  return fmt::format(
      "HK    mode {:<9} battery {:5.1f}% {:5.2f} V {:+6.2f} A  solar {:4.1f} W  load {:4.1f} W  "
      "T elec {:+5.1f} batt {:+5.1f} motors {:+5.1f} C",
      ShortEnum(rover::v1::RoverMode_Name(m.mode()), "ROVER_MODE_"), m.battery_soc_percent(),
      m.bus_voltage_v(), m.battery_current_a(), m.solar_power_w(), m.load_power_w(),
      m.temp_electronics_c(), m.temp_battery_c(), m.temp_motors_c());
}

std::string Navigation(const rover::v1::NavigationPose& m) {
  return fmt::format(
      "NAV   x {:+8.2f} y {:+8.2f} z {:+6.2f} m  heading {:5.1f}  pitch {:+5.1f} roll {:+5.1f} deg "
      " "
      "{:5.1f} m/h  odometer {:7.2f} m  slip {:4.1f}%{}",
      m.x_m(), m.y_m(), m.z_m(), m.heading_deg(), m.pitch_deg(), m.roll_deg(), m.speed_m_per_h(),
      m.odometer_m(), m.slip_percent(), m.visual_fix() ? "  [visual fix]" : "");
}

std::string Terrain(const rover::v1::TerrainTile& m) {
  size_t hazards = 0;
  for (char c : m.hazard_mask()) hazards += c != 0;
  return fmt::format(
      "TILE  ({:+d},{:+d}) {}x{} cells of {:.2f} m  max slope {:4.1f} deg  max rock {:.2f} m  "
      "hazard cells {}",
      m.tile_x(), m.tile_y(), m.width_cells(), m.height_cells(), m.cell_size_m(), m.max_slope_deg(),
      m.max_rock_height_m(), hazards);
}

std::string Camera(const rover::v1::CameraFrame& m) {
  return fmt::format(
      "CAM   {:<12} frame {:5d}  exposure {:6.1f} ms  pan {:5.1f} tilt {:+5.1f} deg  "
      "sun {:+4.1f} deg  {} kB",
      ShortEnum(rover::v1::Camera_Name(m.camera()), "CAMERA_"), m.frame_id(), m.exposure_ms(),
      m.pan_deg(), m.tilt_deg(), m.sun_elevation_deg(), m.image_size_bytes() / 1000);
}

std::string Soil(const rover::v1::SoilMeasurement& m) {
  const std::string where = fmt::format("#{} at ({:+.1f},{:+.1f}) m{}", m.measurement_id(), m.x_m(),
                                        m.y_m(), m.in_shadow() ? " shadow" : "");
  switch (m.result_case()) {
    case rover::v1::SoilMeasurement::kApxs: {
      const auto& a = m.apxs();
      return fmt::format(
          "SOIL  APXS    {}  SiO2 {:.1f} Al2O3 {:.1f} CaO {:.1f} FeO {:.1f} MgO {:.1f} TiO2 {:.2f} "
          "wt% (total {:.1f})",
          where, a.sio2_wt_percent(), a.al2o3_wt_percent(), a.cao_wt_percent(), a.feo_wt_percent(),
          a.mgo_wt_percent(), a.tio2_wt_percent(), a.total_wt_percent());
    }
    case rover::v1::SoilMeasurement::kVnis: {
      const auto& v = m.vnis();
      return fmt::format(
          "SOIL  VNIS    {}  {} bands from {:.2f} um  band depth 1um {:.3f} 2um {:.3f}  ice {:.3f}",
          where, v.reflectance_size(), v.start_wavelength_um(), v.band_depth_1um(),
          v.band_depth_2um(), v.ice_band_depth_1_5um());
    }
    case rover::v1::SoilMeasurement::kNeutron: {
      const auto& n = m.neutron();
      return fmt::format(
          "SOIL  NEUTRON {}  hydrogen {:.2f} wt% WEH  epithermal {:.1f}/s thermal {:.1f}/s", where,
          n.hydrogen_weh_wt_percent(), n.epithermal_counts_per_s(), n.thermal_counts_per_s());
    }
    case rover::v1::SoilMeasurement::RESULT_NOT_SET:
      break;
  }
  return fmt::format("SOIL  {} {} (no result)",
                     ShortEnum(rover::v1::SoilInstrument_Name(m.instrument()), "SOIL_INSTRUMENT_"),
                     where);
}

std::string Radiation(const rover::v1::Radiation& m) {
  double gcr = 0.0;
  for (const auto& c : m.channels()) {
    if (c.name() == "gcr_protons") gcr = c.flux_per_cm2_s_sr();
  }
  return fmt::format(
      "RAD   dose {:6.2f} uGy/h (neutral {:.2f})  {:6.1f} uSv/h  total {:9.2f} uGy  GCR protons "
      "{:.2f} /cm2/s/sr{}",
      m.dose_rate_ugy_per_h(), m.neutral_dose_rate_ugy_per_h(), m.dose_equivalent_usv_per_h(),
      m.accumulated_dose_ugy(), gcr, m.solar_particle_event() ? "  [SOLAR PARTICLE EVENT]" : "");
}

std::string Event(const rover::v1::Event& m) {
  return fmt::format("EVENT [{}] {}: {}",
                     ShortEnum(rover::v1::EventSeverity_Name(m.severity()), "EVENT_SEVERITY_"),
                     ShortEnum(rover::v1::EventKind_Name(m.kind()), "EVENT_KIND_"),
                     text::EscapeForTerminal(m.message(), 1000));
}

std::string FilePdu(const rover::v1::FilePdu& m) {
  namespace cfdp = protocol::cfdp;
  auto pdu = cfdp::DecodePdu({reinterpret_cast<const uint8_t*>(m.pdu().data()), m.pdu().size()});
  if (!pdu.ok()) {
    return fmt::format("FILE  bad PDU ({} octets): {}", m.pdu().size(),
                       cfdp::ErrorName(pdu.error().reason));
  }
  const std::string txn =
      fmt::format("transaction {}/{}", pdu->header.source, pdu->header.sequence);
  if (const auto* d = std::get_if<cfdp::FileDataPdu>(&pdu->body)) {
    return fmt::format("FILE  {} data at {} ({} octets)", txn, d->offset, d->data.size());
  }
  if (const auto* md = std::get_if<cfdp::MetadataPdu>(&pdu->body)) {
    return fmt::format("FILE  {} metadata: {} ({} octets)", txn,
                       text::EscapeForTerminal(md->destination_name, 200), md->file_size);
  }
  if (const auto* e = std::get_if<cfdp::EofPdu>(&pdu->body)) {
    return fmt::format("FILE  {} end of file ({} octets, {})", txn, e->file_size,
                       cfdp::ConditionName(e->condition));
  }
  return fmt::format("FILE  {} directive", txn);
}

}  // namespace

std::string FormatTelemetryLine(const protocol::DecodedPacket& p) {
  const google::protobuf::Message& m = *p.message;
  switch (p.stream->id) {
    case StreamId::kHousekeeping:
      return Housekeeping(static_cast<const rover::v1::Housekeeping&>(m));
    case StreamId::kNavigationPose:
      return Navigation(static_cast<const rover::v1::NavigationPose&>(m));
    case StreamId::kTerrainTile:
      return Terrain(static_cast<const rover::v1::TerrainTile&>(m));
    case StreamId::kCameraFrame:
      return Camera(static_cast<const rover::v1::CameraFrame&>(m));
    case StreamId::kSoilMeasurement:
      return Soil(static_cast<const rover::v1::SoilMeasurement&>(m));
    case StreamId::kRadiation:
      return Radiation(static_cast<const rover::v1::Radiation&>(m));
    case StreamId::kEvent:
      return Event(static_cast<const rover::v1::Event&>(m));
    case StreamId::kCommandVerification:
      return FormatVerificationLine(static_cast<const rover::v1::CommandVerification&>(m),
                                    RequestOwner::kUnknown);
    case StreamId::kFileDelivery:
      return FilePdu(static_cast<const rover::v1::FilePdu&>(m));
  }
  return std::string(p.stream->name);
}

std::string TerminalLine(protocol::TimestampNs utc_ns, std::string_view text) {
  const int64_t ms = utc_ns / 1'000'000;
  const int64_t day_ms = ((ms % 86'400'000) + 86'400'000) % 86'400'000;
  return fmt::format("{:02}:{:02}:{:02}.{:03} {}", day_ms / 3'600'000, day_ms / 60'000 % 60,
                     day_ms / 1000 % 60, day_ms % 1000, text);
}

std::string FormatVerificationLine(const rover::v1::CommandVerification& m, RequestOwner owner) {
  const std::string_view label = owner == RequestOwner::kGapFill ? "GAPFILL" : "CMD  ";
  std::string line =
      fmt::format("{} request {} {} {}", label, m.request_sequence(),
                  ShortEnum(rover::v1::VerificationStage_Name(m.stage()), "VERIFICATION_STAGE_"),
                  m.success() ? "success" : "FAILURE");
  if (!m.success()) {
    line += fmt::format(" ({}: {})", m.failure_code(),
                        text::EscapeForTerminal(m.failure_reason(), 500));
  } else if (owner == RequestOwner::kGapFill &&
             m.stage() == rover::v1::VERIFICATION_STAGE_COMPLETION) {
    line += fmt::format(": {} packets queued for the downlink", m.packets_queued());
    if (m.unavailable_size() > 0) {
      line += fmt::format(", {} ranges no longer on board", m.unavailable_size());
    }
  }
  if (owner == RequestOwner::kUnknown) line += fmt::format(" (source {})", m.source_id());
  return line;
}

void AppendPacketJson(const protocol::DecodedPacket& p, protocol::TimestampNs ground_ns,
                      std::string& out) {
  fmt::format_to(std::back_inserter(out),
                 "{{\"stream\":\"{}\",\"apid\":{},\"seq\":{},\"size\":{},\"onboard_time_ns\":{},"
                 "\"ground_time_ns\":{},\"data\":",
                 p.stream->name, p.stream->apid, p.packet.extended_sequence, p.packet.bytes.size(),
                 p.packet.onboard_time_ns, ground_ns);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string data;
  // Cannot fail for a message that parsed: every field has a JSON mapping.
  static_cast<void>(google::protobuf::util::MessageToJsonString(*p.message, &data, options));
  out += data;
  out += "}\n";
}

}  // namespace lgs::station
