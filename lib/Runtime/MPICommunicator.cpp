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
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

#include "llvm/Support/FormatVariadic.h"

#include <mpi.h>

#include <chrono>
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

class MPICommunicator final : public Communicator {
public:
  MPICommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &myRank);
    MPI_Comm_size(MPI_COMM_WORLD, &worldSize);
    // Errors come back as codes, reported with the rank and collective.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  ~MPICommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
      MPI_Finalize();
  }

  int rank() const override { return myRank; }
  int size() const override { return worldSize; }
  const char *name() const override { return "mpi"; }

  llvm::Error allReduce(float *data, size_t count,
                        Reduction reduction) override {
    return ring(data, count, reduction);
  }
  llvm::Error allReduce(double *data, size_t count,
                        Reduction reduction) override {
    return ring(data, count, reduction);
  }

  llvm::Error barrier() override {
    MPI_Request request;
    if (int rc = MPI_Ibarrier(MPI_COMM_WORLD, &request))
      return llvm::createStringError("MPI_Ibarrier: " + mpiError(rc));
    return wait(&request, 1, "barrier");
  }

  [[noreturn]] void abort(int status) override {
    MPI_Abort(MPI_COMM_WORLD, status);
    std::_Exit(status);
  }

private:
  /// Waits for `n` requests until the deadline; polls with short sleeps
  /// so that a waiting rank leaves the cores to the ones still computing.
  llvm::Error wait(MPI_Request *requests, int n, const char *what) {
    auto deadline =
        Clock::now() + std::chrono::duration<double>(timeoutSeconds);
    for (int spins = 0;; ++spins) {
      int done = 0;
      if (int rc = MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE))
        return llvm::createStringError(
            llvm::formatv("{0} failed: {1}", what, mpiError(rc)).str());
      if (done)
        return llvm::Error::success();
      if (Clock::now() > deadline) {
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
};
} // namespace

llvm::Expected<std::unique_ptr<Communicator>>
dlc::runtime::createMPICommunicator() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // The compiled code's OpenMP threads never call MPI: only the thread
    // that runs the step does.
    if (int rc =
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided))
      return llvm::createStringError("MPI_Init_thread: " + mpiError(rc));
  }
  return std::make_unique<MPICommunicator>();
}
