//===- Profile.cpp - Per-kernel times of a profiled model -----------------===//
//
// The hooks are called from the compiled steps outside their parallel
// regions (one thread), so plain arrays suffice; they grow on the first
// call of a new id, never during a profiled step after the first.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Profile.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

extern "C" {
/// Defined by models compiled with --profile (a NUL-terminated JSON array).
extern const char dlc_profile_kernels[] __attribute__((weak));
void dlc_profile_enter(int32_t id);
void dlc_profile_exit(int32_t id);
}

namespace {
using Clock = std::chrono::steady_clock;

struct KernelTimes {
  Clock::time_point started;
  double seconds = 0;
  int64_t calls = 0;
};

std::vector<KernelTimes> &times() {
  static std::vector<KernelTimes> table;
  return table;
}

KernelTimes &timesOf(int32_t id) {
  auto &table = times();
  if (id >= static_cast<int32_t>(table.size()))
    table.resize(id + 1);
  return table[id];
}
} // namespace

extern "C" void dlc_profile_enter(int32_t id) {
  if (id >= 0)
    timesOf(id).started = Clock::now();
}

extern "C" void dlc_profile_exit(int32_t id) {
  if (id < 0)
    return;
  KernelTimes &entry = timesOf(id);
  entry.seconds +=
      std::chrono::duration<double>(Clock::now() - entry.started).count();
  ++entry.calls;
}

using namespace dlc::runtime;

bool dlc::runtime::hasKernelProfile() { return dlc_profile_kernels != nullptr; }

void dlc::runtime::resetKernelProfile() {
  for (KernelTimes &entry : times())
    entry = KernelTimes{};
}

llvm::Error dlc::runtime::printKernelProfile(llvm::raw_ostream &os,
                                             size_t top) {
  if (!hasKernelProfile())
    return llvm::createStringError(
        "this program was compiled without --profile: compile the model "
        "with 'dlc compile --profile' to time its kernels");
  auto parsed = llvm::json::parse(dlc_profile_kernels);
  if (!parsed)
    return parsed.takeError();
  const llvm::json::Array *kernels = parsed->getAsArray();
  if (!kernels)
    return llvm::createStringError("malformed dlc_profile_kernels");

  struct Row {
    std::string function, layers, loops;
    double flops, bytes, seconds;
    int64_t calls;
  };
  std::vector<Row> rows;
  llvm::StringMap<double> functionSeconds;
  llvm::StringMap<int64_t> functionCalls;
  for (auto [id, value] : llvm::enumerate(*kernels)) {
    const llvm::json::Object *kernel = value.getAsObject();
    if (!kernel)
      continue;
    KernelTimes entry = id < times().size() ? times()[id] : KernelTimes{};
    Row row{kernel->getString("function").value_or("").str(),
            kernel->getString("layers").value_or("").str(),
            kernel->getString("loops").value_or("").str(),
            kernel->getNumber("flops").value_or(0),
            kernel->getNumber("bytes").value_or(0),
            entry.seconds,
            entry.calls};
    if (!row.calls)
      continue;
    functionSeconds[row.function] += row.seconds;
    functionCalls[row.function] =
        std::max(functionCalls[row.function], row.calls);
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    return a.seconds > b.seconds;
  });

  os << "Kernel profile (wall-clock time per call; share of its function's "
        "time; static flops and bytes)\n";
  for (auto &entry : functionSeconds)
    os << llvm::formatv("  {0}: {1:F3} ms per call over {2} calls\n",
                        entry.getKey(),
                        1e3 * entry.getValue() / functionCalls[entry.getKey()],
                        functionCalls[entry.getKey()]);
  os << llvm::formatv("{0,-11} {1,-26} {2,-26} {3,8} {4,6} {5,8} {6,7}\n",
                      "function", "layers", "loops", "ms/call", "share",
                      "GFLOP/s", "GB/s");
  size_t shown = 0;
  for (const Row &row : rows) {
    if (top && shown++ == top)
      break;
    double perCall = row.seconds / row.calls;
    double share = functionSeconds[row.function] > 0
                       ? 100.0 * row.seconds / functionSeconds[row.function]
                       : 0;
    auto clip = [](llvm::StringRef text, size_t width) {
      return text.size() <= width ? text.str()
                                  : (text.take_front(width - 1) + "~").str();
    };
    os << llvm::formatv("{0,-11} {1,-26} {2,-26} {3,8:F3} {4,5:F1}% {5,8:F1} "
                        "{6,7:F1}\n",
                        clip(row.function, 11), clip(row.layers, 26),
                        clip(row.loops, 26), 1e3 * perCall, share,
                        perCall > 0 ? row.flops / perCall / 1e9 : 0.0,
                        perCall > 0 ? row.bytes / perCall / 1e9 : 0.0);
  }
  return llvm::Error::success();
}
