//===- Prefetcher.h - The next batch, assembled during this step -*- C++
//-*-===//
//
// Double buffering of the input pipeline: while the compiled step reads one
// batch buffer, a background thread gathers the next batch's samples from
// the dataset and normalizes them into the other one (the Executor holds
// two batch buffers, Executor::selectBatch). The job only touches host
// memory -- the compiled code stays non-reentrant: only one compiled
// function runs at a time, always on the caller's thread -- and the host
// to device copy of the batch stays where it was, at the start of the step
// that reads it, so the same path serves every Device.
//
// The job is the same code with or without the thread (disabled, start()
// runs it at once), so the batches, hence the trained bits, do not depend
// on it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATA_PREFETCHER_H
#define DLC_RUNTIME_DATA_PREFETCHER_H

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace dlc::runtime {

/// One background worker that runs one job at a time.
class Prefetcher {
public:
  /// `background`: run jobs on a thread of their own (started on the first
  /// job); otherwise start() runs them on the caller's thread.
  explicit Prefetcher(bool background);
  Prefetcher(const Prefetcher &) = delete;
  Prefetcher &operator=(const Prefetcher &) = delete;
  /// Waits for the job in flight, then stops the thread.
  ~Prefetcher();

  bool isBackground() const { return background; }

  /// Starts `job` after the previous one has finished (start waits for
  /// it). The job must not throw and must not call into the compiled code.
  void start(std::function<void()> job);
  /// Returns once the last started job has finished.
  void wait();

private:
  void work();

  bool background;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable changed;
  std::function<void()> pending;
  bool busy = false, stopping = false;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATA_PREFETCHER_H
