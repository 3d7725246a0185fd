#include "coordinator/core_input.h"

#include "common/spec/fanout.h"
#include "proto/wire.h"

namespace hollerith::coordinator {

bool ApplyInput(SchedulerCore& core, const v1::CoreInput& in) {
  switch (in.input_case()) {
    case v1::CoreInput::kStart:
      core.Start();
      return true;
    case v1::CoreInput::kPlaced:
      return core.StackPlaced(in.placed().stack(), in.placed().attempt(), in.placed().node());
    case v1::CoreInput::kStarted:
      return core.CardStarted(wire::FromProto(in.started(), in.node()));
    case v1::CoreInput::kFinished:
      return core.CardFinished(wire::FromProto(in.finished(), in.node()));
    case v1::CoreInput::kLost:
      core.StackLost(in.lost().stack(), in.lost().why(),
                     in.lost().coordinator_restart() ? SchedulerCore::LossCause::kCoordinatorRestart
                                                     : SchedulerCore::LossCause::kNodeLost);
      return true;
    case v1::CoreInput::kCancel:
      core.Cancel(in.cancel().reason());
      return true;
    case v1::CoreInput::kFanOut: {
      const v1::FanOutInput& f = in.fan_out();
      Result<std::shared_ptr<const JobSpec>> made = Status::Error(f.error());
      if (f.error().empty() && f.stack() < core.job().stacks.size() &&
          core.job().stacks[f.stack()].is_template()) {
        made = ExpandFanOut(core.job(), f.stack(), f.list());
      }
      return core.FanOutListed(f.stack(), made, f.list());
    }
    case v1::CoreInput::INPUT_NOT_SET:
      break;
  }
  return false;
}

v1::CoreInput StartInput() {
  v1::CoreInput in;
  in.mutable_start();
  return in;
}

v1::CoreInput PlacedInput(uint32_t stack, uint32_t attempt, const std::string& node) {
  v1::CoreInput in;
  in.mutable_placed()->set_stack(stack);
  in.mutable_placed()->set_attempt(attempt);
  in.mutable_placed()->set_node(node);
  return in;
}

v1::CoreInput LostInput(uint32_t stack, const std::string& why, bool coordinator_restart) {
  v1::CoreInput in;
  in.mutable_lost()->set_stack(stack);
  in.mutable_lost()->set_why(why);
  in.mutable_lost()->set_coordinator_restart(coordinator_restart);
  return in;
}

v1::CoreInput FanOutInput(uint32_t stack, std::string list, std::string error) {
  v1::CoreInput in;
  in.mutable_fan_out()->set_stack(stack);
  in.mutable_fan_out()->set_list(std::move(list));
  in.mutable_fan_out()->set_error(std::move(error));
  return in;
}

v1::CoreInput CancelInput(const std::string& reason) {
  v1::CoreInput in;
  in.mutable_cancel()->set_reason(reason);
  return in;
}

}  // namespace hollerith::coordinator
