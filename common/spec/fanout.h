// Run-time fan-out: the stacks a run-time matrix (`matrix: {from: STACK.CARD:PATH}`, job.h's
// FanOutSpec) makes once the list it names exists. Both halves are pure functions of the spec
// (and of the list's text), so the coordinator, `run --local` and `verify` (which rebuilds the
// job from the lists its trace recorded) make the same stacks with the same ids.
//
// The list is JSON: an array of scalars (each one `${{ matrix.item }}`) or of objects whose
// values are scalars (each key one `${{ matrix.KEY }}`). Instance ids are those of a written
// matrix (matrix.h): TEMPLATE-V1-V2... from the values in the order written, sanitized, long ones
// hashed. In the instances, `${{ matrix.KEY }}` is substituted in `run` (script or argv), `env`
// values, `node`, label values, `outputs` and inputs' `dest`; the other fields are read before
// the list exists and cannot use it.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "common/base/status.h"
#include "common/spec/job.h"
#include "common/spec/parser.h"

namespace hollerith {

inline constexpr size_t kMaxFanOutBytes = size_t{16} << 20;  // the list file
inline constexpr size_t kMaxFanOutItems = 100000;

// Checks a parsed spec's run-time matrix stacks (ParseJobSpec calls it; throws SpecErrors): a
// template may not wait on another template's cards, and no template may be unreachable, i.e.
// need itself to exist before its list is written (its source card waiting, through any chain,
// on a stack that waits for the template's instances).
void CheckFanOuts(const JobSpec& job);

// The list of template stack `stack` as the wiring (coordinator, `run --local`) finds it: the
// text of `file`, the source card's output in an artifact store ("" if the card published none),
// refused above kMaxFanOutBytes.
Result<std::string> ReadFanOutList(const JobSpec& job, uint32_t stack, const std::string& file);

// `job` with template stack `stack`'s instances appended, one per item of `list` (the text of the
// source card's output), every reference to the template's cards (fan-ins, the combine card)
// rewritten to name every instance, inputs arriving at INSTANCE/DEST (results/INSTANCE.CARD/PATH
// for the combine card). An error for people when the list cannot make stacks: not JSON, not a
// list, too long (kMaxFanOutItems, or more cards than `limits.max_cards`), an item that is not a
// scalar or an object of scalars, a `${{ matrix.KEY }}` an item lacks, two items (or an item and a
// stack) with one id, a substituted path that is not a workspace path.
Result<std::shared_ptr<const JobSpec>> ExpandFanOut(const JobSpec& job, uint32_t stack,
                                                    std::string_view list,
                                                    const SpecLimits& limits = {});

}  // namespace hollerith
