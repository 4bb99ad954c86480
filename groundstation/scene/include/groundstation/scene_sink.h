// SceneSink: the station's Foxglove channels (SceneProducts) made from each accepted packet and
// from the alarm and command transitions, handed to `write` (the recorder's RecordProduct).
//
// Not thread-safe: the ingest thread only (alarm and command transitions reach it there).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "groundstation/scene_products.h"
#include "groundstation/sink.h"

namespace lgs::station {

class SceneSink final : public Sink {
 public:
  using Write = std::function<void(const SceneMessage&)>;
  SceneSink(std::string rover_id, Write write);

  void OnAccepted(const AcceptedPacket& packet) override;
  void OnAlarm(const ground::v1::GroundAlarm& alarm, int64_t ground_ns);
  void OnCommand(const ground::v1::GroundCommand& command, int64_t ground_ns);

  uint64_t written() const { return written_; }

 private:
  void Flush();

  SceneProducts products_;
  Write write_;
  std::vector<SceneMessage> pending_;
  uint64_t written_ = 0;
};

}  // namespace lgs::station
