//===- Communicator.cpp - The single-process communicator, the C hook ----===//
//
// What every runtime has, with or without MPI: rank 0 of 1, the current
// communicator the compiled step reduces through, the synchronous default
// of start/wait, the per-bucket profile and the ring schedule.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>

using namespace dlc::runtime;

Communicator::~Communicator() = default;

std::string dlc::runtime::describeBucketFailure(int64_t bucket, size_t count,
                                                llvm::StringRef message) {
  return llvm::formatv("gradient all-reduce (bucket {0}, {1} floats) failed: "
                       "{2}",
                       bucket, count, message)
      .str();
}

llvm::Error Communicator::startAllReduce(float *data, size_t count,
                                         Reduction reduction, int64_t bucket) {
  if (finished.count(bucket))
    return llvm::createStringError(llvm::formatv(
        "bucket {0} started twice without a wait (the compiled step and "
        "this runtime disagree)",
        bucket));
  Finished &f = finished[bucket];
  f.data = data;
  if (!failure.empty()) {
    f.error = failure;
    return llvm::Error::success();
  }
  auto begin = std::chrono::steady_clock::now();
  if (llvm::Error e = allReduce(data, count, reduction))
    failure = f.error =
        describeBucketFailure(bucket, count, llvm::toString(std::move(e)));
  f.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
          .count();
  return llvm::Error::success();
}

llvm::Error Communicator::waitAllReduce(float *data, int64_t bucket,
                                        double &busySeconds) {
  auto it = finished.find(bucket);
  if (it == finished.end() || it->second.data != data)
    return llvm::createStringError(llvm::formatv(
        "bucket {0} waited for but not started with this buffer (the "
        "compiled step and this runtime disagree)",
        bucket));
  Finished f = std::move(it->second);
  finished.erase(it);
  busySeconds = f.seconds;
  if (!f.error.empty())
    return llvm::createStringError(f.error);
  return llvm::Error::success();
}

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

using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

/// The profile, and the start times of the buckets in flight. Only the
/// thread that runs the step touches it (the mutex is for readers).
struct Profiler {
  std::mutex mutex;
  AllReduceProfile profile;
  std::map<int64_t, Clock::time_point> started;
  /// Seconds each bucket in flight spent in its start call.
  std::map<int64_t, double> startBlocked;
  Clock::time_point firstStep, lastStep;

  BucketProfile &bucket(int64_t b, size_t floats) {
    auto &buckets = profile.buckets;
    if (buckets.size() <= size_t(b))
      for (int64_t i = buckets.size(); i <= b; ++i)
        buckets.push_back(BucketProfile{i});
    buckets[b].floats = floats;
    return buckets[b];
  }
  void stepBegins(int64_t b, Clock::time_point now) {
    if (b != 0)
      return;
    if (profile.steps++ == 0)
      firstStep = now;
    lastStep = now;
    if (profile.steps > 1)
      profile.stepSeconds =
          seconds(lastStep - firstStep) / double(profile.steps - 1);
  }
};
Profiler &profiler() {
  static Profiler p;
  return p;
}

/// Prints the failure and ends the job (the compiled code cannot return
/// an error).
[[noreturn]] void failBucket(llvm::StringRef message) {
  llvm::errs() << "error: rank " << current->rank() << " of " << current->size()
               << ": " << message << "; stopping every rank\n";
  llvm::errs().flush();
  current->abort(1);
}

void checkCall(const char *function, int64_t stride, int32_t reduction) {
  if (stride != 1 || (reduction != int32_t(Reduction::Sum) &&
                      reduction != int32_t(Reduction::Mean))) {
    llvm::errs() << "error: rank " << current->rank() << ": " << function
                 << " called with stride " << stride << " and reduction "
                 << reduction
                 << " (the compiled step and this runtime disagree)\n";
    current->abort(1);
  }
}
} // namespace

AllReduceProfile dlc::runtime::getAllReduceProfile() {
  std::lock_guard<std::mutex> lock(profiler().mutex);
  return profiler().profile;
}

void dlc::runtime::resetAllReduceProfile() {
  std::lock_guard<std::mutex> lock(profiler().mutex);
  profiler().profile = {};
  profiler().started.clear();
  profiler().startBlocked.clear();
}

void dlc::runtime::printAllReduceProfile(llvm::raw_ostream &os,
                                         const AllReduceProfile &profile) {
  os << llvm::formatv(
      "All-reduce profile ({0}; {1} steps, {2:F2} ms per step):\n",
      profile.startWait ? "start/wait, overlapped with the backward pass"
                        : "blocking calls",
      profile.steps, 1e3 * profile.stepSeconds);
  os << "  bucket     floats   ms comm/call   ms in flight/call   ms "
        "blocked/call   hidden\n";
  double busy = 0, blocked = 0;
  int64_t calls = 0;
  auto hidden = [](double busy, double blocked) {
    return busy > 0 ? std::clamp(1 - blocked / busy, 0.0, 1.0) : 0.0;
  };
  for (const BucketProfile &b : profile.buckets) {
    if (b.calls == 0)
      continue;
    double n = double(b.calls);
    os << llvm::formatv("  {0,6} {1,10} {2,14:F3} {3,19:F3} {4,17:F3} "
                        "{5,7:F1}%\n",
                        b.bucket, b.floats, 1e3 * b.busySeconds / n,
                        1e3 * b.inFlightSeconds / n, 1e3 * b.blockedSeconds / n,
                        100 * hidden(b.busySeconds, b.blockedSeconds));
    busy += b.busySeconds;
    blocked += b.blockedSeconds;
    calls = std::max(calls, b.calls);
  }
  double steps = double(std::max<int64_t>(calls, 1));
  os << llvm::formatv("  per step: communication {0:F3} ms, blocked {1:F3} "
                      "ms, hidden {2:F1}%\n",
                      1e3 * busy / steps, 1e3 * blocked / steps,
                      100 * hidden(busy, blocked));
}

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
  checkCall("dlc_rt_all_reduce_f64", stride, reduction);
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
  checkCall("dlc_rt_all_reduce_f32", stride, reduction);
  auto begin = Clock::now();
  llvm::Error e =
      current->allReduce(aligned + offset, size_t(size), Reduction(reduction));
  auto end = Clock::now();
  if (e)
    failBucket(
        describeBucketFailure(bucket, size, llvm::toString(std::move(e))));
  Profiler &p = profiler();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stepBegins(bucket, begin);
  BucketProfile &b = p.bucket(bucket, size_t(size));
  ++b.calls;
  b.busySeconds += seconds(end - begin);
  b.blockedSeconds += seconds(end - begin);
}

extern "C" void dlc_rt_all_reduce_start_f32(float *allocated, float *aligned,
                                            int64_t offset, int64_t size,
                                            int64_t stride, int32_t reduction,
                                            int64_t bucket) {
  (void)allocated;
  allReduceCalls.fetch_add(1);
  if (!current || current->size() == 1)
    return;
  checkCall("dlc_rt_all_reduce_start_f32", stride, reduction);
  auto begin = Clock::now();
  if (llvm::Error e = current->startAllReduce(aligned + offset, size_t(size),
                                              Reduction(reduction), bucket))
    failBucket(
        describeBucketFailure(bucket, size, llvm::toString(std::move(e))));
  // Without a communication thread the start reduced the bucket itself:
  // that time blocked the step, and the bucket is in flight only after it.
  auto end = Clock::now();
  Profiler &p = profiler();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.profile.startWait = current->overlapsAllReduce();
  p.stepBegins(bucket, begin);
  p.started[bucket] = end;
  p.startBlocked[bucket] = seconds(end - begin);
}

extern "C" void dlc_rt_all_reduce_wait_f32(float *allocated, float *aligned,
                                           int64_t offset, int64_t size,
                                           int64_t stride, int64_t bucket) {
  (void)allocated;
  (void)stride;
  if (!current || current->size() == 1)
    return;
  auto entry = Clock::now();
  double busy = 0;
  if (llvm::Error e = current->waitAllReduce(aligned + offset, bucket, busy))
    failBucket(llvm::toString(std::move(e)));
  auto exit = Clock::now();
  Profiler &p = profiler();
  std::lock_guard<std::mutex> lock(p.mutex);
  BucketProfile &b = p.bucket(bucket, size_t(size));
  ++b.calls;
  auto it = p.started.find(bucket);
  if (it != p.started.end()) {
    b.inFlightSeconds += seconds(entry - it->second);
    p.started.erase(it);
  }
  b.blockedSeconds += seconds(exit - entry) + p.startBlocked[bucket];
  p.startBlocked.erase(bucket);
  b.busySeconds += busy;
}
