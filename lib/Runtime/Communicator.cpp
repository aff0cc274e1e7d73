//===- Communicator.cpp - The single-process communicator, the C hook ----===//
//
// What every runtime has, with or without MPI: rank 0 of 1, the current
// communicator the compiled step reduces through, and the ring schedule.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <cstdlib>

using namespace dlc::runtime;

Communicator::~Communicator() = default;

namespace {
class SingleProcessCommunicator final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char *name() const override { return "single process"; }
  // The sum over one rank is the buffer; so is the mean.
  llvm::Error allReduce(float *, size_t, Reduction) override {
    return llvm::Error::success();
  }
  llvm::Error allReduce(double *, size_t, Reduction) override {
    return llvm::Error::success();
  }
  llvm::Error barrier() override { return llvm::Error::success(); }
  [[noreturn]] void abort(int status) override { std::_Exit(status); }
};

Communicator *current = nullptr;
std::atomic<int64_t> allReduceCalls{0};
std::atomic<int64_t> sampleOffset{0};
} // namespace

std::unique_ptr<Communicator> dlc::runtime::createSingleProcessCommunicator() {
  return std::make_unique<SingleProcessCommunicator>();
}

bool dlc::runtime::launchedByMPI() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(var))
      return true;
  return false;
}

void dlc::runtime::setCurrentCommunicator(Communicator *communicator) {
  current = communicator;
}

Communicator *dlc::runtime::getCurrentCommunicator() { return current; }

int64_t dlc::runtime::getAllReduceCallCount() { return allReduceCalls.load(); }

void dlc::runtime::ringChunk(size_t count, int ranks, int c, size_t &begin,
                             size_t &end) {
  // The first count % ranks chunks get one element more.
  size_t base = count / ranks, extra = count % ranks;
  begin = c * base + std::min<size_t>(c, extra);
  end = begin + base + (size_t(c) < extra ? 1 : 0);
}

bool dlc::runtime::compiledWithSyncBatchNorm(llvm::StringRef settingsJson) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(settingsJson);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return false;
  }
  const llvm::json::Object *root = parsed->getAsObject();
  return root && root->getBoolean("sync_batch_norm").value_or(false);
}

void dlc::runtime::setSampleOffset(int64_t offset) {
  sampleOffset.store(offset);
}

extern "C" int64_t dlc_rt_sample_offset() { return sampleOffset.load(); }

extern "C" void dlc_rt_all_reduce_f64(double *allocated, double *aligned,
                                      int64_t offset, int64_t size,
                                      int64_t stride, int32_t reduction,
                                      int64_t layer) {
  (void)allocated;
  if (!current || current->size() == 1)
    return;
  if (stride != 1 || (reduction != int32_t(Reduction::Sum) &&
                      reduction != int32_t(Reduction::Mean))) {
    llvm::errs() << "error: rank " << current->rank()
                 << ": dlc_rt_all_reduce_f64 called with stride " << stride
                 << " and reduction " << reduction
                 << " (the compiled step and this runtime disagree)\n";
    current->abort(1);
  }
  if (llvm::Error e = current->allReduce(aligned + offset, size_t(size),
                                         Reduction(reduction))) {
    llvm::errs() << "error: rank " << current->rank() << " of "
                 << current->size()
                 << ": batch-norm statistics all-reduce (call " << layer << ", "
                 << size << " doubles) failed: " << llvm::toString(std::move(e))
                 << "; stopping every rank\n";
    llvm::errs().flush();
    current->abort(1);
  }
}

extern "C" void dlc_rt_all_reduce_f32(float *allocated, float *aligned,
                                      int64_t offset, int64_t size,
                                      int64_t stride, int32_t reduction,
                                      int64_t bucket) {
  (void)allocated;
  allReduceCalls.fetch_add(1);
  if (!current || current->size() == 1)
    return;
  if (stride != 1 || (reduction != int32_t(Reduction::Sum) &&
                      reduction != int32_t(Reduction::Mean))) {
    llvm::errs() << "error: rank " << current->rank()
                 << ": dlc_rt_all_reduce_f32 called with stride " << stride
                 << " and reduction " << reduction
                 << " (the compiled step and this runtime disagree)\n";
    current->abort(1);
  }
  if (llvm::Error e = current->allReduce(aligned + offset, size_t(size),
                                         Reduction(reduction))) {
    llvm::errs() << "error: rank " << current->rank() << " of "
                 << current->size() << ": gradient all-reduce (bucket "
                 << bucket << ", " << size
                 << " floats) failed: " << llvm::toString(std::move(e))
                 << "; stopping every rank\n";
    llvm::errs().flush();
    current->abort(1);
  }
}
