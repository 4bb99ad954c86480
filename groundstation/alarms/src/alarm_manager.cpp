#include "groundstation/alarm_manager.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include <limits>

#include "groundstation/telemetry_fields.h"

namespace lgs::station {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Number(double v) {
  return fmt::format("{:.4g}", v);
}

}  // namespace

AlarmManager::AlarmManager(LimitSet limits) : limits_(std::move(limits)) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  channels_.resize(limits_.limits().size());
  for (const LimitSpec& spec : limits_.limits()) {
    repeated_.push_back(!spec.path.empty() && spec.path.back()->is_repeated());
    Fast f;
    f.red_low = spec.red_low.value_or(-kInf);
    f.red_high = spec.red_high.value_or(kInf);
    f.yellow_low = spec.yellow_low.value_or(f.red_low);
    f.yellow_high = spec.yellow_high.value_or(f.red_high);
    f.repeated = repeated_.back();
    if (spec.stream != nullptr && spec.path.size() == 1)
      f.reflection = spec.stream->prototype->GetReflection();
    fast_.push_back(f);
    // Scalars have one channel; repeated fields grow theirs as elements appear.
    if (!f.repeated) channels_.back().resize(1);
  }
}

std::string AlarmManager::IdOf(size_t limit, size_t element, bool repeated) const {
  const std::string& field = limits_.limits()[limit].field;
  return repeated ? fmt::format("{}[{}]", field, element) : field;
}

void AlarmManager::Evaluate(protocol::StreamId stream, const Message& message, int64_t ground_ns,
                            Transitions& out) {
  for (const size_t index : limits_.ForStream(stream)) {
    const LimitSpec& spec = limits_.limits()[index];
    const Fast& fast = fast_[index];
    const FieldDescriptor* f = spec.path.back();
    if (fast.reflection != nullptr) {  // a top-level field: the common case, no lookups
      if (fast.repeated && f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        // One accessor for the whole field instead of a reflection call per element.
        size_t i = 0;
        for (const double v : fast.reflection->GetRepeatedFieldRef<double>(message, f)) {
          Sample(index, i++, true, v, ground_ns, out);
        }
      } else if (fast.repeated) {
        const int n = fast.reflection->FieldSize(message, f);
        for (int i = 0; i < n; ++i) {
          Sample(index, static_cast<size_t>(i), true,
                 NumericValue(fast.reflection, message, f, i).value_or(0.0), ground_ns, out);
        }
      } else {
        Sample(index, 0, false, NumericValue(fast.reflection, message, f, -1).value_or(0.0),
               ground_ns, out);
      }
      continue;
    }
    const Message* m = &message;
    for (size_t i = 0; i + 1 < spec.path.size(); ++i) {
      if (!m->GetReflection()->HasField(*m, spec.path[i])) {
        m = nullptr;
        break;
      }
      m = &m->GetReflection()->GetMessage(*m, spec.path[i]);
    }
    if (m == nullptr) continue;  // the part of the message holding it is absent this time
    const Reflection* r = m->GetReflection();
    if (f->is_repeated()) {
      const int n = r->FieldSize(*m, f);
      for (int i = 0; i < n; ++i) {
        Sample(index, static_cast<size_t>(i), true, NumericValue(r, *m, f, i).value_or(0.0),
               ground_ns, out);
      }
    } else {
      Sample(index, 0, false, NumericValue(r, *m, f, -1).value_or(0.0), ground_ns, out);
    }
  }
}

void AlarmManager::EvaluateLink(LinkMetric metric, double value, int64_t ground_ns,
                                Transitions& out) {
  for (const size_t index : limits_.ForLink(metric)) Sample(index, 0, false, value, ground_ns, out);
}

void AlarmManager::Sample(size_t limit, size_t element, bool repeated, double value,
                          int64_t ground_ns, Transitions& out) {
  ++stats_.samples;
  const Fast& fast = fast_[limit];
  std::vector<Channel>& channels = channels_[limit];
  if (element >= channels.size()) channels.resize(element + 1);
  Channel& c = channels[element];
  // Written so that NaN (a broken sensor or encoder) counts as beyond every bound.
  const bool yellow = !(value >= fast.yellow_low && value <= fast.yellow_high);
  // The common case: within limits and nothing pending.
  if (!yellow && !c.active && c.beyond_yellow == 0) return;
  const LimitSpec& spec = limits_.limits()[limit];
  const bool red = !(value >= fast.red_low && value <= fast.red_high);
  c.value = value;
  if (!yellow) {
    c.beyond_yellow = c.beyond_red = 0;
    if (c.flapping) {
      if (c.within_since_ns == 0) c.within_since_ns = ground_ns;
      if (ground_ns - c.within_since_ns < static_cast<int64_t>(kFlapHoldS * 1e9)) return;
      c.flapping = false;
      c.active = false;
      c.within = 0;
      c.transitions.clear();
      ++stats_.cleared;
      Emit(limit, element, repeated, c, "cleared",
           fmt::format("back within limits for {:.0f} s after flapping ({} crossings not shown): "
                       "{} {}",
                       kFlapHoldS, c.suppressed, Number(value), spec.unit),
           out);
      c.suppressed = 0;
      if (c.acknowledged) Resolve(c);
      return;
    }
    if (c.active && ++c.within >= spec.persistence) {
      c.within = 0;
      if (NoteTransition(c, ground_ns)) {
        // It would clear, as it has just done again and again: held raised instead.
        ++stats_.flapping;
        c.flapping = true;
        c.within_since_ns = ground_ns;
        Emit(limit, element, repeated, c, "flapping",
             fmt::format("raised and cleared {} times in {:.0f} s: held raised until it stays "
                         "within limits for {:.0f} s",
                         kFlapTransitions / 2, kFlapWindowS, kFlapHoldS),
             out);
        return;
      }
      c.active = false;
      ++stats_.cleared;
      Emit(limit, element, repeated, c, "cleared",
           fmt::format("back within limits: {} {}", Number(value), spec.unit), out);
      if (c.acknowledged) Resolve(c);
    }
    return;
  }
  if (c.flapping && c.within_since_ns != 0) {
    c.within_since_ns = 0;
    ++c.suppressed;
    ++stats_.suppressed;
  }
  c.within = 0;
  ++c.beyond_yellow;
  c.beyond_red = red ? c.beyond_red + 1 : 0;
  const Level reached = c.beyond_red >= spec.persistence      ? Level::kCritical
                        : c.beyond_yellow >= spec.persistence ? Level::kWarning
                                                              : Level::kNominal;
  if (reached == Level::kNominal) return;
  const bool fresh = !c.active;
  if (!fresh && reached <= c.level) return;
  // Which bound was crossed, for the record.
  std::string_view name;
  double bound = 0.0;
  if (reached == Level::kCritical) {
    const bool low = !(value >= fast.red_low);
    name = low ? "red_low" : "red_high";
    bound = low ? fast.red_low : fast.red_high;
  } else {
    const bool low =
        fast.yellow_low > -std::numeric_limits<double>::infinity() && !(value >= fast.yellow_low);
    name = low ? "yellow_low" : "yellow_high";
    bound = low ? fast.yellow_low : fast.yellow_high;
  }
  const bool escalation = !fresh && reached > c.level;
  if (fresh) NoteTransition(c, ground_ns);
  c.level = fresh ? reached : std::max(c.level, reached);
  c.active = true;
  c.acknowledged = false;
  c.acknowledged_by.clear();
  c.limit = fmt::format("{} {}", name, Number(bound));
  if (fresh) c.raised_ns = ground_ns;
  ++(escalation ? stats_.escalated : stats_.raised);
  c.text = fmt::format("{} {} is {} {} {} {}", Number(value), spec.unit,
                       name.ends_with("low") ? "below" : "above", name, Number(bound), spec.unit);
  Emit(limit, element, repeated, c, escalation ? "escalated" : "raised", c.text, out);
}

void AlarmManager::Resolve(Channel& c) {
  std::vector<int64_t> transitions = std::move(c.transitions);
  c = Channel{};
  c.transitions = std::move(transitions);
}

bool AlarmManager::NoteTransition(Channel& c, int64_t ground_ns) {
  c.transitions.push_back(ground_ns);
  if (c.transitions.size() > static_cast<size_t>(kFlapTransitions)) {
    c.transitions.erase(c.transitions.begin());
  }
  return c.transitions.size() == static_cast<size_t>(kFlapTransitions) &&
         ground_ns - c.transitions.front() <= static_cast<int64_t>(kFlapWindowS * 1e9);
}

void AlarmManager::Emit(size_t limit, size_t element, bool repeated, const Channel& c,
                        std::string_view state, std::string text, Transitions& out) const {
  ground::v1::GroundAlarm& a = out.emplace_back();
  a.set_id(IdOf(limit, element, repeated));
  a.set_severity(c.level == Level::kCritical ? "critical" : "warning");
  a.set_state(std::string(state));
  a.set_text(std::move(text));
  a.set_raised_ns(c.raised_ns);
  a.set_value(c.value);
  a.set_limit(c.limit);
  a.set_unit(limits_.limits()[limit].unit);
  a.set_acknowledged(c.acknowledged);
  a.set_acknowledged_by(c.acknowledged_by);
  a.set_active(c.active);
}

Status AlarmManager::Acknowledge(const std::string& id, const std::string& by, int64_t,
                                 Transitions& out) {
  size_t done = 0;
  for (size_t limit = 0; limit < channels_.size(); ++limit) {
    for (size_t element = 0; element < channels_[limit].size(); ++element) {
      Channel& c = channels_[limit][element];
      if (c.level == Level::kNominal || c.acknowledged) continue;
      if (id != "all" && IdOf(limit, element, repeated_[limit]) != id) continue;
      c.acknowledged = true;
      c.acknowledged_by = by;
      ++stats_.acknowledged;
      ++done;
      Emit(limit, element, repeated_[limit], c, "acknowledged",
           fmt::format("acknowledged by {}{}", by, c.active ? "" : " (already cleared)"), out);
      if (!c.active) Resolve(c);
    }
  }
  if (done == 0) {
    return Status::Error(id == "all" ? "no unacknowledged alarm"
                                     : fmt::format("no unacknowledged alarm '{}'", id));
  }
  return Status::Ok();
}

std::vector<ground::v1::GroundAlarm> AlarmManager::Current() const {
  Transitions out;
  for (size_t limit = 0; limit < channels_.size(); ++limit) {
    for (size_t element = 0; element < channels_[limit].size(); ++element) {
      const Channel& c = channels_[limit][element];
      if (c.level == Level::kNominal) continue;
      Emit(limit, element, repeated_[limit], c, c.active ? "active" : "cleared", c.text, out);
    }
  }
  return out;
}

}  // namespace lgs::station
