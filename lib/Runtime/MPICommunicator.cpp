//===- MPICommunicator.cpp - Collectives over MPI ------------------------===//
//
// The world communicator of an mpirun job. The all-reduce is a ring
// (reduce-scatter, then all-gather) written with non-blocking
// point-to-point messages, for two reasons MPI_Allreduce cannot serve:
//  * the order of each element's sum is fixed by the schedule (chunk c is
//    summed as ((g[c] + g[c+1]) + g[c+2]) + ..., ranks mod N), whatever
//    algorithm the MPI library would pick, so runs with the same N are
//    bit-identical;
//  * every wait polls against a deadline, so a rank that died or stopped
//    makes the others fail with a message instead of hanging.
// Its cost is the ring's: 2 (N - 1) / N times the buffer per rank, in
// 2 (N - 1) latency-bound steps.
//
// Overlap: a communication thread owns every MPI call after
// MPI_Init_thread (so MPI_THREAD_SERIALIZED is enough). The step's thread
// queues started buckets and blocking collectives alike; the thread runs
// them one at a time in queue order with the same ring, so every rank
// issues the same collectives in the same order (tags stay matched) and
// the bits are those of blocking calls. The first failure is sticky: every
// later job fails with its message without touching MPI. The thread
// blocks all signals (Ctrl-C reaches the step's thread as before) and
// checks a stop flag in every poll, so joining it never waits for a
// collective's deadline. With a lower thread level (or
// DLC_ALL_REDUCE_THREAD=0) the collectives run on the caller's thread.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

#include "llvm/Support/FormatVariadic.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>

using namespace dlc::runtime;

namespace {
using Clock = std::chrono::steady_clock;

template <typename T> MPI_Datatype mpiType();
template <> MPI_Datatype mpiType<float>() { return MPI_FLOAT; }
template <> MPI_Datatype mpiType<double>() { return MPI_DOUBLE; }

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, length);
}

/// One collective for the communication thread.
struct Job {
  enum Kind { Floats, Doubles, Barrier } kind = Floats;
  void *data = nullptr;
  size_t count = 0;
  Reduction reduction = Reduction::Sum;
  /// The gradient bucket, -1 for the runtime's own collectives.
  int64_t bucket = -1;
  bool done = false;
  std::string error;
  double seconds = 0;
};

class MPICommunicator final : public Communicator {
public:
  explicit MPICommunicator(bool threaded) {
    MPI_Comm_rank(MPI_COMM_WORLD, &myRank);
    MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
    // Errors come back as codes, reported with the rank and collective.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (threaded && worldSize > 1) {
      // The thread inherits the mask: signals stay with the other threads.
      sigset_t all, previous;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &previous);
      worker = std::thread([this] { serve(); });
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }
  }
  ~MPICommunicator() override {
    stopWorker();
    int finalized = 0;
    MPI_Finalized(&finalized);
    // After a collective failed (a peer died or stopped), MPI_Finalize
    // would wait for that peer forever: the error has been reported, the
    // job ends here.
    if (!finalized && collectiveFailed.load())
      MPI_Abort(MPI_COMM_WORLD, 1);
    if (!finalized)
      MPI_Finalize();
  }

  int rank() const override { return myRank; }
  int size() const override { return worldSize; }
  const char *name() const override { return "mpi"; }
  bool overlapsAllReduce() const override { return worker.joinable(); }

  llvm::Error allReduce(float *data, size_t count,
                        Reduction reduction) override {
    if (!worker.joinable())
      return ring(data, count, reduction);
    return runAndWait(Job{Job::Floats, data, count, reduction});
  }
  llvm::Error allReduce(double *data, size_t count,
                        Reduction reduction) override {
    if (!worker.joinable())
      return ring(data, count, reduction);
    return runAndWait(Job{Job::Doubles, data, count, reduction});
  }

  llvm::Error barrier() override {
    if (worker.joinable())
      return runAndWait(Job{Job::Barrier});
    return barrierNow();
  }

  llvm::Error startAllReduce(float *data, size_t count, Reduction reduction,
                             int64_t bucket) override {
    if (!worker.joinable())
      return Communicator::startAllReduce(data, count, reduction, bucket);
    if (started.count(bucket))
      return llvm::createStringError(llvm::formatv(
          "bucket {0} started twice without a wait (the compiled step and "
          "this runtime disagree)",
          bucket));
    auto job =
        std::make_shared<Job>(Job{Job::Floats, data, count, reduction, bucket});
    started[bucket] = job;
    enqueue(job);
    return llvm::Error::success();
  }

  llvm::Error waitAllReduce(float *data, int64_t bucket,
                            double &busySeconds) override {
    if (!worker.joinable())
      return Communicator::waitAllReduce(data, bucket, busySeconds);
    auto it = started.find(bucket);
    if (it == started.end() || it->second->data != data)
      return llvm::createStringError(llvm::formatv(
          "bucket {0} waited for but not started with this buffer (the "
          "compiled step and this runtime disagree)",
          bucket));
    std::shared_ptr<Job> job = std::move(it->second);
    started.erase(it);
    waitFor(*job);
    busySeconds = job->seconds;
    if (!job->error.empty())
      return llvm::createStringError(job->error);
    return llvm::Error::success();
  }

  [[noreturn]] void abort(int status) override {
    // The thread leaves its collective at its next poll; then this thread
    // is the only one calling MPI.
    stopWorker();
    MPI_Abort(MPI_COMM_WORLD, status);
    std::_Exit(status);
  }

private:
  llvm::Error barrierNow() {
    MPI_Request request;
    if (int rc = MPI_Ibarrier(MPI_COMM_WORLD, &request))
      return llvm::createStringError("MPI_Ibarrier: " + mpiError(rc));
    return wait(&request, 1, "barrier");
  }

  void enqueue(std::shared_ptr<Job> job) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      queue.push_back(std::move(job));
    }
    wake.notify_all();
  }
  void waitFor(const Job &job) {
    std::unique_lock<std::mutex> lock(mutex);
    finishedJob.wait(lock, [&] { return job.done; });
  }
  llvm::Error runAndWait(Job job) {
    auto shared = std::make_shared<Job>(std::move(job));
    enqueue(shared);
    waitFor(*shared);
    if (!shared->error.empty())
      return llvm::createStringError(shared->error);
    return llvm::Error::success();
  }

  /// The communication thread: the queue's jobs in order.
  void serve() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stopping.load() || !queue.empty(); });
        if (queue.empty())
          return; // Stopping, nothing left.
        job = std::move(queue.front());
        queue.pop_front();
      }
      std::string error = threadFailure;
      if (error.empty()) {
        auto begin = Clock::now();
        // Initialized once: assigning over an unchecked success value
        // aborts with LLVM's ABI-breaking checks.
        llvm::Error e = [&]() -> llvm::Error {
          switch (job->kind) {
          case Job::Floats:
            return ring(static_cast<float *>(job->data), job->count,
                        job->reduction);
          case Job::Doubles:
            return ring(static_cast<double *>(job->data), job->count,
                        job->reduction);
          case Job::Barrier:
            return barrierNow();
          }
          llvm_unreachable("unknown job kind");
        }();
        job->seconds =
            std::chrono::duration<double>(Clock::now() - begin).count();
        if (e) {
          error = llvm::toString(std::move(e));
          if (job->bucket >= 0)
            error = describeBucketFailure(job->bucket, job->count, error);
          threadFailure = error;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        job->error = std::move(error);
        job->done = true;
      }
      finishedJob.notify_all();
    }
  }

  void stopWorker() {
    if (!worker.joinable())
      return;
    {
      // Under the mutex: set between the worker's check of its wait
      // condition and its sleep, the flag and its notification would be
      // lost and the join would never return.
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    worker.join();
    // Jobs nobody will run: their waiters must not block.
    std::lock_guard<std::mutex> lock(mutex);
    for (auto &job : queue) {
      job->error = "stopped";
      job->done = true;
    }
    queue.clear();
    finishedJob.notify_all();
  }

  /// Waits for `n` requests until the deadline; polls with short sleeps
  /// so that a waiting rank leaves the cores to the ones still computing.
  llvm::Error wait(MPI_Request *requests, int n, const char *what) {
    auto deadline =
        Clock::now() + std::chrono::duration<double>(timeoutSeconds);
    for (int spins = 0;; ++spins) {
      int done = 0;
      if (int rc = MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE)) {
        collectiveFailed = true;
        return llvm::createStringError(
            llvm::formatv("{0} failed: {1}", what, mpiError(rc)).str());
      }
      if (done)
        return llvm::Error::success();
      if (stopping)
        return llvm::createStringError(
            llvm::formatv("{0} cancelled: the job is stopping", what).str());
      if (Clock::now() > deadline) {
        collectiveFailed = true;
        int left = (myRank + worldSize - 1) % worldSize,
            right = (myRank + 1) % worldSize;
        std::string peers =
            left == right ? llvm::formatv("rank {0}", left).str()
                          : llvm::formatv("rank {0} or {1}", left, right).str();
        return llvm::createStringError(
            llvm::formatv("{0} timed out after {1} s waiting for {2} (a rank "
                          "died or stopped; see --collective-timeout)",
                          what, timeoutSeconds, peers)
                .str());
      }
      if (spins > 64)
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  template <typename T>
  llvm::Error ring(T *data, size_t count, Reduction reduction) {
    int n = worldSize;
    if (n == 1 || count == 0)
      return llvm::Error::success();
    int left = (myRank + n - 1) % n, right = (myRank + 1) % n;
    size_t largest = count / n + 1;
    if (incoming.size() < largest * sizeof(T))
      incoming.resize(largest * sizeof(T));
    T *received = reinterpret_cast<T *>(incoming.data());
    // A tag per collective: a late message of one can never match another.
    int tag = int(sequence++ % 30000);
    auto exchange = [&](int sendChunk, int recvChunk, T *into) -> llvm::Error {
      size_t sb, se, rb, re;
      ringChunk(count, n, sendChunk, sb, se);
      ringChunk(count, n, recvChunk, rb, re);
      MPI_Request requests[2];
      if (int rc =
              MPI_Irecv(into ? into + rb : received, int(re - rb), mpiType<T>(),
                        left, tag, MPI_COMM_WORLD, &requests[0]))
        return llvm::createStringError("MPI_Irecv: " + mpiError(rc));
      if (int rc = MPI_Isend(data + sb, int(se - sb), mpiType<T>(), right, tag,
                             MPI_COMM_WORLD, &requests[1]))
        return llvm::createStringError("MPI_Isend: " + mpiError(rc));
      return wait(requests, 2, "all-reduce");
    };
    auto mod = [n](int x) { return ((x % n) + n) % n; };
    // Reduce-scatter: afterwards rank r holds the whole sum of chunk r + 1.
    for (int s = 0; s < n - 1; ++s) {
      int recvChunk = mod(myRank - s - 1);
      if (llvm::Error e = exchange(mod(myRank - s), recvChunk, nullptr))
        return e;
      size_t b, e;
      ringChunk(count, n, recvChunk, b, e);
      for (size_t i = b; i < e; ++i)
        data[i] = received[i - b] + data[i];
    }
    int owned = mod(myRank + 1);
    if (reduction == Reduction::Mean) {
      size_t b, e;
      ringChunk(count, n, owned, b, e);
      T scale = T(1) / T(n);
      for (size_t i = b; i < e; ++i)
        data[i] *= scale;
    }
    // All-gather: pass the finished chunks around the ring.
    for (int s = 0; s < n - 1; ++s)
      if (llvm::Error e = exchange(mod(owned - s), mod(owned - s - 1), data))
        return e;
    return llvm::Error::success();
  }

  int myRank = 0, worldSize = 1;
  uint64_t sequence = 0;
  /// The chunk being received in the reduce-scatter (grown once).
  std::vector<char> incoming;

  /// The communication thread (not started: collectives on the caller's
  /// thread), its queue and the buckets started and not yet waited for.
  std::thread worker;
  std::mutex mutex;
  std::condition_variable wake, finishedJob;
  std::deque<std::shared_ptr<Job>> queue;
  std::atomic<bool> stopping{false};
  /// Whether a collective timed out or failed (then the job aborts
  /// instead of finalizing).
  std::atomic<bool> collectiveFailed{false};
  /// The first error of the thread (only the thread touches it).
  std::string threadFailure;
  std::map<int64_t, std::shared_ptr<Job>> started;
};

const char *threadLevelName(int level) {
  switch (level) {
  case MPI_THREAD_SINGLE:
    return "MPI_THREAD_SINGLE";
  case MPI_THREAD_FUNNELED:
    return "MPI_THREAD_FUNNELED";
  case MPI_THREAD_SERIALIZED:
    return "MPI_THREAD_SERIALIZED";
  default:
    return "MPI_THREAD_MULTIPLE";
  }
}
} // namespace

llvm::Expected<std::unique_ptr<Communicator>>
dlc::runtime::createMPICommunicator() {
  int initialized = 0, provided = MPI_THREAD_SINGLE;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Only the communication thread calls MPI after this (the step's
    // thread before it starts and after it is joined): SERIALIZED.
    if (int rc =
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided))
      return llvm::createStringError("MPI_Init_thread: " + mpiError(rc));
  } else {
    MPI_Query_thread(&provided);
  }
  const char *env = std::getenv("DLC_ALL_REDUCE_THREAD");
  bool wanted = !(env && llvm::StringRef(env) == "0");
  bool threaded = wanted && provided >= MPI_THREAD_SERIALIZED;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (!threaded && rank == 0) {
    if (wanted)
      llvm::errs() << "note: MPI gives " << threadLevelName(provided)
                   << ", not MPI_THREAD_SERIALIZED:";
    else
      llvm::errs() << "note: DLC_ALL_REDUCE_THREAD=0:";
    llvm::errs() << " gradient all-reduces run synchronously (no overlap "
                    "with the backward pass)\n";
  }
  return std::make_unique<MPICommunicator>(threaded);
}
