//===- Communicator.h - Collectives for data-parallel training --*- C++ -*-===//
//
// A training run over N processes (ranks) sums every gradient across the
// ranks inside the compiled step. The step calls the C entry point
// dlc_rt_all_reduce_f32 (declared below, emitted by the lowering of
// dlc.all_reduce), or dlc_rt_all_reduce_start_f32 and
// dlc_rt_all_reduce_wait_f32 (dlc.all_reduce_start / dlc.all_reduce_wait,
// the overlapped form), which forward to the process's current
// Communicator. Implementations:
//  * the single-process communicator (rank 0 of 1): every collective is
//    the identity, so an executable compiled with --data-parallel runs
//    alone unchanged;
//  * MPI (MPICommunicator.cpp, when Open MPI is found at build time), with
//    a communication thread that reduces started buckets in issue order;
//  * NCCL on CUDA devices would be a third (docs/Design.md, "NCCL"): start
//    enqueues ncclAllReduce on a communication stream after an event of
//    the compute stream, wait makes the compute stream wait for the
//    bucket's event. The interface takes device addresses and never
//    touches the memory itself outside the collectives.
//
// Two promises every implementation keeps:
//  * Fixed reduction order: the sum of each element is formed in an order
//    that depends only on the number of ranks and the buffer's length, so
//    two runs with the same N give bit-identical results on every rank.
//  * No hang: every collective has a deadline. A rank that died or stopped
//    makes the others fail with an error naming the collective and the
//    timeout; the caller then ends the whole job (abort()).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_COMMUNICATOR_H
#define DLC_RUNTIME_COMMUNICATOR_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc::runtime {

/// What an all-reduce computes from the ranks' buffers.
enum class Reduction : int32_t {
  /// The element-wise sum.
  Sum = 0,
  /// The sum times 1/N (the gradient of the mean loss over the global
  /// batch, when each rank's gradient is that of its own mean loss).
  Mean = 1,
};

class Communicator {
public:
  virtual ~Communicator();

  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "mpi", "single process".
  virtual const char *name() const = 0;

  /// Reduces `count` floats at `data` (host memory) across all ranks, in
  /// place: every rank ends with the same bits.
  virtual llvm::Error allReduce(float *data, size_t count,
                                Reduction reduction) = 0;
  /// The same for doubles (statistics the runtime combines itself).
  virtual llvm::Error allReduce(double *data, size_t count,
                                Reduction reduction) = 0;
  /// Returns once every rank has called it.
  virtual llvm::Error barrier() = 0;

  /// Starts the all-reduce of gradient bucket `bucket` (`count` floats at
  /// `data`, in place). The buffer must be neither read nor written until
  /// waitAllReduce(data, bucket) returns. Started buckets are reduced one
  /// at a time in the order they were started, each exactly as allReduce
  /// would, so the bits do not depend on overlapping. This default
  /// reduces before returning (no overlap); an error of a bucket is
  /// returned by its wait, and after it every later collective fails.
  virtual llvm::Error startAllReduce(float *data, size_t count,
                                     Reduction reduction, int64_t bucket);
  /// Waits until bucket `bucket`, started with `data`, is reduced. Sets
  /// `busySeconds` to the time the communication itself took. A failure
  /// says which bucket failed ("gradient all-reduce (bucket B, N floats)
  /// failed: ...": maybe an earlier one than `bucket`).
  virtual llvm::Error waitAllReduce(float *data, int64_t bucket,
                                    double &busySeconds);
  /// Whether startAllReduce returns before the bucket is reduced.
  virtual bool overlapsAllReduce() const { return false; }
  /// Ends every rank of the job with `status` (after a failed collective:
  /// the other ranks may be waiting in one that will never complete).
  [[noreturn]] virtual void abort(int status) = 0;

  /// Seconds a collective may wait for the other ranks (default 300).
  void setTimeout(double seconds) { timeoutSeconds = seconds; }
  double getTimeout() const { return timeoutSeconds; }

protected:
  double timeoutSeconds = 300;

private:
  /// The default start/wait: buckets reduced at their start.
  struct Finished {
    float *data = nullptr;
    double seconds = 0;
    std::string error;
  };
  std::map<int64_t, Finished> finished;
  std::string failure;
};

/// "gradient all-reduce (bucket B, N floats) failed: MESSAGE", the error
/// every implementation gives for a failed bucket.
std::string describeBucketFailure(int64_t bucket, size_t count,
                                  llvm::StringRef message);

/// Times of the gradient all-reduces of this process, per bucket, recorded
/// by the C entry points (cheap: a few clock reads per bucket).
struct BucketProfile {
  int64_t bucket = 0;
  int64_t calls = 0;
  size_t floats = 0;
  /// Sum over calls of the time from the start to the entry of its wait
  /// (the compute that ran while the bucket was in flight; 0 blocking).
  double inFlightSeconds = 0;
  /// Sum of the time the step spent blocked in the wait (or in the
  /// blocking call).
  double blockedSeconds = 0;
  /// Sum of the time the communication itself took.
  double busySeconds = 0;
};
struct AllReduceProfile {
  std::vector<BucketProfile> buckets;
  /// Mean time between two starts of bucket 0 (a training step), 0 when
  /// there were fewer than two steps.
  double stepSeconds = 0;
  int64_t steps = 0;
  /// Whether the buckets were started and waited for (dlc.all_reduce_start)
  /// rather than reduced by blocking calls.
  bool startWait = false;
};
AllReduceProfile getAllReduceProfile();
void resetAllReduceProfile();
/// A table of the profile, and its totals: communication time, blocked
/// time, and the hidden fraction 1 - blocked / communication.
void printAllReduceProfile(llvm::raw_ostream &os,
                           const AllReduceProfile &profile);

/// Rank 0 of 1.
std::unique_ptr<Communicator> createSingleProcessCommunicator();

/// True when this process was started by mpirun (Open MPI's or PMIx's
/// environment is set), i.e. when createMPICommunicator should be used.
bool launchedByMPI();

/// Initializes MPI (once per process) and returns the world communicator,
/// or an error when this runtime was built without MPI.
llvm::Expected<std::unique_ptr<Communicator>> createMPICommunicator();

/// The communicator dlc_rt_all_reduce_f32 uses (none: single process).
/// Not owned.
void setCurrentCommunicator(Communicator *communicator);
Communicator *getCurrentCommunicator();

/// Calls of dlc_rt_all_reduce_f32 so far in this process: the trainer
/// checks after the first step of a multi-rank run that the executable
/// was compiled with --data-parallel.
int64_t getAllReduceCallCount();

/// The ring all-reduce's schedule, exposed for tests: at reduce-scatter
/// step `s` (0 <= s < N - 1) rank `r` sends chunk (r - s) mod N and adds
/// the chunk (r - s - 1) mod N it receives into its own copy. Chunk `c`
/// of `count` elements over `ranks` ranks is [begin, end).
void ringChunk(size_t count, int ranks, int c, size_t &begin, size_t &end);

/// Whether the model's settings (Model::getSettingsJson) say that its
/// train_step was compiled with --sync-batch-norm ("sync_batch_norm").
bool compiledWithSyncBatchNorm(llvm::StringRef settingsJson);

/// The global index of this rank's first sample in the current global
/// batch (rank x compiled batch; 0 alone). A train_step compiled with
/// --data-parallel reads it (dlc_rt_sample_offset) to key dropout and
/// augmentation by the global sample, so that the masks do not depend on
/// the number of ranks. Set by the trainer before each step.
void setSampleOffset(int64_t offset);

} // namespace dlc::runtime

extern "C" {
/// Called by the compiled train_step (lowering of dlc.all_reduce) with an
/// expanded rank-1 memref descriptor: reduces `size` floats at
/// `aligned + offset` across the ranks of the current communicator.
/// `reduction` is a dlc::runtime::Reduction, `bucket` the op's bucket
/// number (for messages). On failure it prints the error and ends the job:
/// the compiled code has no way to return one.
void dlc_rt_all_reduce_f32(float *allocated, float *aligned, int64_t offset,
                           int64_t size, int64_t stride, int32_t reduction,
                           int64_t bucket);

/// Called by a train_step compiled with --sync-batch-norm (lowering of the
/// training batch-norm ops) with a rank-1 f64 memref descriptor: replaces
/// the per-channel statistics at `aligned + offset` by their mean over the
/// ranks (same ring, same fixed order as the gradients). `layer` numbers
/// the call within the step (for messages). Ends the job on failure.
void dlc_rt_all_reduce_f64(double *allocated, double *aligned, int64_t offset,
                           int64_t size, int64_t stride, int32_t reduction,
                           int64_t layer);

/// Called by a train_step compiled with --data-parallel: the global index
/// of this rank's first sample (setSampleOffset).
int64_t dlc_rt_sample_offset();
/// Lowering of dlc.all_reduce_start: starts reducing the bucket's buffer
/// (same arguments as dlc_rt_all_reduce_f32) and returns, on a
/// communicator with a communication thread, before it is reduced.
void dlc_rt_all_reduce_start_f32(float *allocated, float *aligned,
                                 int64_t offset, int64_t size, int64_t stride,
                                 int32_t reduction, int64_t bucket);
/// Lowering of dlc.all_reduce_wait: returns once the bucket started with
/// this buffer is reduced; on failure prints the error and ends the job.
void dlc_rt_all_reduce_wait_f32(float *allocated, float *aligned,
                                int64_t offset, int64_t size, int64_t stride,
                                int64_t bucket);
}

#endif // DLC_RUNTIME_COMMUNICATOR_H
