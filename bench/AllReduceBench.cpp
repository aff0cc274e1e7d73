//===- AllReduceBench.cpp - Time the runtime's gradient all-reduce -------===//
//
// Run under mpirun (bench/allreduce.sh): every rank reduces `--floats`
// floats in buckets of `--bucket-bytes`, as the compiled step of a model
// with that many trainable parameters does once per step, through the
// same Communicator the step calls. Rank 0 prints the median and minimum
// time per step's worth of buckets as one JSON line.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <vector>

using namespace dlc::runtime;

static llvm::cl::opt<int64_t> floats("floats",
                                     llvm::cl::desc("Gradient floats per step"),
                                     llvm::cl::init(1 << 20));
static llvm::cl::opt<int64_t>
    bucketBytes("bucket-bytes", llvm::cl::desc("Bytes per all-reduce call"),
                llvm::cl::init(1 << 20));
static llvm::cl::opt<int>
    iterations("iterations", llvm::cl::desc("Timed steps"), llvm::cl::init(50));
static llvm::cl::opt<std::string> label("label",
                                        llvm::cl::desc("Name in the output"),
                                        llvm::cl::init("gradients"));

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv, "dlc all-reduce benchmark\n");
  std::unique_ptr<Communicator> comm;
  if (launchedByMPI()) {
    auto created = createMPICommunicator();
    if (!created) {
      llvm::errs() << llvm::toString(created.takeError()) << "\n";
      return 1;
    }
    comm = std::move(*created);
  } else {
    comm = createSingleProcessCommunicator();
  }
  std::vector<float> data(floats, 1.0f);
  int64_t perBucket = std::max<int64_t>(1, bucketBytes / 4);
  auto step = [&]() -> llvm::Error {
    for (int64_t begin = 0; begin < floats; begin += perBucket)
      if (llvm::Error e = comm->allReduce(data.data() + begin,
                                          std::min(perBucket, floats - begin),
                                          Reduction::Mean))
        return e;
    return llvm::Error::success();
  };
  std::vector<double> seconds;
  for (int i = -3; i < iterations; ++i) {
    if (llvm::Error e = comm->barrier()) {
      llvm::errs() << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
    auto start = std::chrono::steady_clock::now();
    if (llvm::Error e = step()) {
      llvm::errs() << llvm::toString(std::move(e)) << "\n";
      return 1;
    }
    if (i >= 0)
      seconds.push_back(std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count());
  }
  std::sort(seconds.begin(), seconds.end());
  if (comm->rank() == 0)
    llvm::outs() << llvm::formatv(
        "{{\"label\": \"{0}\", \"ranks\": {1}, \"floats\": {2}, "
        "\"bucket_bytes\": {3}, \"median_ms\": {4:F3}, \"min_ms\": {5:F3}, "
        "\"algorithm_GB_per_s\": {6:F2}}\n",
        label, comm->size(), (int64_t)floats, (int64_t)bucketBytes,
        1e3 * seconds[seconds.size() / 2], 1e3 * seconds.front(),
        // A ring moves 2 (N - 1) / N of the buffer through each rank.
        2.0 * (comm->size() - 1) / comm->size() * 4.0 * floats /
            seconds[seconds.size() / 2] / 1e9);
  return 0;
}
