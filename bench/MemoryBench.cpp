//===- MemoryBench.cpp - Memory of ping-pong vs in-place training ---------===//
//
// Compiles the example models (cnn_bn at batch 64, resnet_small at batch
// 128) with a train_step that returns new persistent tensors
// (`in-place=false`, which the runtime runs ping-pong: two copies of every
// param, optimizer state and statistic) and with one that updates them in
// place (the default: one copy), and prints side by side for each:
//  * the persistent bytes the runtime keeps (one or two copies);
//  * the bytes the compiled step allocates per call (its temporaries), and
//    the number of allocations, counted by the malloc interposer below
//    over the timed steps;
//  * the peak resident memory of a process that loads the object and
//    trains (max RSS), and what it was before the step buffers existed.
//
// Each variant runs in a child process (this binary, exec'ed with --run), so
// neither the compiler's memory nor another variant's pollutes the peak;
// the parent reads the child's ru_maxrss from wait4. The child allocates
// the buffers as the runtime's Executor does (one copy of each persistent
// tensor for an in-place step, two swapped after each step otherwise; the
// batch; loss and correct) and, like the runtime's executables, keeps
// freed memory in the heap (mallopt), so the peak is the high-water mark of
// live memory, not of what glibc happened to return to the kernel.
// This is a benchmark, not a test: ctest never runs it.
//
// Usage: dlc-memory-bench [--steps N] [--model NAME]
//   --steps  counted steps per variant, after one warm-up (default 3)
//   --model  cnn_bn or resnet_small only
//
//===----------------------------------------------------------------------===//

#include "dlc/Compiler/Compiler.h"
#include "dlc/Import/Import.h"
#include "dlc/InitAll.h"
#include "dlc/Runtime/ModelABI.h"
#include "dlc/Target/CPU/CPUTarget.h"
#include "dlc/Target/CPU/ObjectLoader.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <random>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

//===----------------------------------------------------------------------===//
// Counting allocator
//===----------------------------------------------------------------------===//

// Every allocation of the process (the compiled code's through the JIT's
// process symbol lookup included) comes here and goes on to glibc; while
// `counting` is set, the requested bytes are added up.
extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> countedBytes{0}, countedCalls{0};

inline void count(size_t bytes) {
  if (counting.load(std::memory_order_relaxed)) {
    countedBytes.fetch_add(int64_t(bytes), std::memory_order_relaxed);
    countedCalls.fetch_add(1, std::memory_order_relaxed);
  }
}
} // namespace

extern "C" {
void *malloc(size_t size) {
  count(size);
  return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
  count(n * size);
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size) {
  count(size);
  return __libc_realloc(p, size);
}
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) {
  count(size);
  return __libc_memalign(alignment, size);
}
void *aligned_alloc(size_t alignment, size_t size) {
  count(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
  count(size);
  void *p = __libc_memalign(alignment, size);
  if (!p)
    return ENOMEM;
  *out = p;
  return 0;
}
}

using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// The child: load one object and train
//===----------------------------------------------------------------------===//

/// Resident memory now, from /proc/self/statm.
int64_t residentBytes() {
  long pages = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    std::fclose(f);
  }
  return int64_t(resident) * sysconf(_SC_PAGESIZE);
}

/// One tensor buffer with its memref descriptor.
struct Buffer {
  std::vector<float> data; // 4-byte elements: f32 or i32
  std::vector<int64_t> descriptor;
  void *descriptorPointer = nullptr;

  explicit Buffer(const dlc_tensor_info &t, std::mt19937 &rng) {
    int64_t count = 1;
    for (int32_t d = 0; d < t.rank; ++d)
      count *= t.shape[d];
    data.resize(count);
    // Small positive noise (variances stay positive); i32 labels as 0.
    if (t.dtype == DLC_DTYPE_F32) {
      std::uniform_real_distribution<float> uniform(0.01f, 0.05f);
      for (float &x : data)
        x = uniform(rng);
    }
    descriptor = {reinterpret_cast<int64_t>(data.data()),
                  reinterpret_cast<int64_t>(data.data()), 0};
    descriptor.insert(descriptor.end(), t.shape, t.shape + t.rank);
    std::vector<int64_t> strides(t.rank);
    for (int64_t d = t.rank - 1, stride = 1; d >= 0; --d)
      strides[d] = stride, stride *= t.shape[d];
    descriptor.insert(descriptor.end(), strides.begin(), strides.end());
    descriptorPointer = descriptor.data();
  }
  int64_t bytes() const { return int64_t(data.size()) * 4; }
};

bool hasRole(const dlc_tensor_info &t, const char *role) {
  return !std::strcmp(t.role, role);
}

bool isPersistent(const dlc_tensor_info &t) {
  return hasRole(t, DLC_ROLE_PARAM) || hasRole(t, DLC_ROLE_OPT_STATE) ||
         hasRole(t, DLC_ROLE_STATE);
}

/// --run OBJECT: trains `steps` steps of the object's train_step and prints
/// "persistent_bytes bytes_per_step allocations_per_step baseline_rss".
int runChild(const char *objectPath, int steps) {
  // As the runtime's executables (dlcRuntimeMain).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  auto bytes = llvm::MemoryBuffer::getFile(objectPath);
  if (!bytes) {
    std::fprintf(stderr, "cannot read %s\n", objectPath);
    return 1;
  }
  auto object = dlc::LoadedObject::load(std::move(*bytes));
  if (!object) {
    llvm::errs() << llvm::toString(object.takeError()) << "\n";
    return 1;
  }
  auto table = (*object)->lookup("dlc_model");
  if (!table) {
    llvm::errs() << llvm::toString(table.takeError()) << "\n";
    return 1;
  }
  const auto &model = *static_cast<const dlc_model_info *>(*table);
  const dlc_function_info *step = nullptr;
  for (int32_t f = 0; f < model.num_functions; ++f)
    if (!std::strcmp(model.functions[f].name, "train_step"))
      step = &model.functions[f];
  if (!step)
    return 1;
  if (auto setThreads = (*object)->lookup("dlc_set_num_threads"))
    reinterpret_cast<void (*)(int32_t)> (*setThreads)(1);
  else
    llvm::consumeError(setThreads.takeError());
  int64_t baseline = residentBytes();

  // The executor's buffers: arguments, then results; a persistent result
  // is the other copy of the argument it updates (ping-pong).
  std::mt19937 rng(1);
  int32_t n = step->num_args + step->num_results;
  std::vector<std::unique_ptr<Buffer>> buffers(n);
  std::vector<void *> packed(n);
  int64_t step64 = 0, seed = 0;
  float learningRate = 1e-3f;
  int64_t persistent = 0;
  std::vector<std::pair<int32_t, int32_t>> swaps; // (argument, result)
  for (int32_t i = 0; i < n; ++i) {
    bool result = i >= step->num_args;
    const dlc_tensor_info &t =
        result ? step->results[i - step->num_args] : step->args[i];
    if (t.rank < 0) {
      packed[i] = hasRole(t, DLC_ROLE_STEP)   ? static_cast<void *>(&step64)
                  : hasRole(t, DLC_ROLE_SEED) ? static_cast<void *>(&seed)
                                              : &learningRate;
      continue;
    }
    buffers[i] = std::make_unique<Buffer>(t, rng);
    packed[i] = &buffers[i]->descriptorPointer;
    if (isPersistent(t))
      persistent += buffers[i]->bytes();
  }
  // Results of each persistent group update the group's arguments in order.
  for (const char *role :
       {DLC_ROLE_PARAM, DLC_ROLE_OPT_STATE, DLC_ROLE_STATE}) {
    std::vector<int32_t> args, results;
    for (int32_t i = 0; i < n; ++i) {
      bool result = i >= step->num_args;
      const dlc_tensor_info &t =
          result ? step->results[i - step->num_args] : step->args[i];
      if (hasRole(t, role))
        (result ? results : args).push_back(i);
    }
    for (size_t k = 0; k < results.size() && k < args.size(); ++k)
      swaps.push_back({args[k], results[k]});
  }

  auto run = [&] {
    step->packed(packed.data());
    for (auto [a, r] : swaps)
      std::swap(packed[a], packed[r]);
    ++step64;
  };
  run(); // Warm-up: first-touch of every buffer, lazily created state.
  countedBytes = 0;
  countedCalls = 0;
  counting = true;
  for (int s = 0; s < steps; ++s)
    run();
  counting = false;
  std::printf("%lld %lld %lld %lld\n", (long long)persistent,
              (long long)(countedBytes / steps),
              (long long)(countedCalls / steps), (long long)baseline);
  return 0;
}

//===----------------------------------------------------------------------===//
// The parent: compile, run each variant in a child
//===----------------------------------------------------------------------===//

/// Compiles `imported` (cloned) as the driver does, with train_step in
/// place or not, to the object file at `path`.
bool compileTo(ModuleOp imported, bool inPlace, const std::string &path) {
  OwningOpRef<ModuleOp> module = imported.clone();
  dlc::StepOptions steps;
  steps.inPlace = inPlace;
  std::unique_ptr<dlc::Target> target = dlc::createCPUTarget();
  if (failed(dlc::buildSteps(*module, steps)) ||
      failed(dlc::lowerToLinalg(*module)) ||
      failed(dlc::lowerForTarget(*module, *target)))
    return false;
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return false;
  if (llvm::Error error = target->emit(*module, "obj", os)) {
    llvm::errs() << llvm::toString(std::move(error)) << "\n";
    return false;
  }
  return true;
}

struct Figures {
  int64_t persistent = 0, bytesPerStep = 0, callsPerStep = 0, baseline = 0;
  int64_t peak = 0;
};

/// Runs `self --run object --steps N` and collects its figures and peak.
bool runVariant(const char *self, const std::string &object, int steps,
                Figures &figures) {
  int out[2];
  if (pipe(out) != 0)
    return false;
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::string stepsText = std::to_string(steps);
    execl(self, self, "--run", object.c_str(), "--steps", stepsText.c_str(),
          static_cast<char *>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char text[256] = {};
  ssize_t got = 0, r;
  while ((r = read(out[0], text + got, sizeof(text) - 1 - got)) > 0)
    got += r;
  close(out[0]);
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return false;
  long long p, b, c, base;
  if (std::sscanf(text, "%lld %lld %lld %lld", &p, &b, &c, &base) != 4)
    return false;
  figures = {p, b, c, base, int64_t(usage.ru_maxrss) * 1024};
  return true;
}

double mib(int64_t bytes) { return double(bytes) / (1 << 20); }

} // namespace

int main(int argc, char **argv) {
  int steps = 3;
  std::string only;
  const char *runObject = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc)
      steps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
      only = argv[++i];
    else if (!std::strcmp(argv[i], "--run") && i + 1 < argc)
      runObject = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--steps N] [--model NAME]\n", argv[0]);
      return 2;
    }
  }
  if (runObject)
    return runChild(runObject, steps);

  std::string self =
      llvm::sys::fs::getMainExecutable(argv[0], reinterpret_cast<void *>(main));
  llvm::SmallString<128> dir;
  if (llvm::sys::fs::createUniqueDirectory("dlc-memory-bench", dir)) {
    std::fprintf(stderr, "cannot create a temporary directory\n");
    return 1;
  }

  DialectRegistry registry;
  dlc::registerAllDLCDialects(registry);
  dlc::registerImportDialects(registry);
  MLIRContext context(registry);
  context.disableMultithreading();

  struct Model {
    const char *name, *file;
  };
  const Model models[] = {{"cnn_bn", "fashion_mnist/cnn_bn.yaml"},
                          {"resnet_small", "cifar10/resnet_small.yaml"}};
  const struct {
    const char *name;
    bool inPlace;
  } variants[] = {{"ping-pong", false}, {"in-place", true}};
  int status = 0;
  std::printf("%-13s %-10s %16s %16s %12s %15s %15s\n", "model", "variant",
              "persistent MiB", "alloc/step MiB", "allocs/step", "peak RSS MiB",
              "before MiB");
  for (const Model &m : models) {
    if (!only.empty() && only != m.name)
      continue;
    llvm::SourceMgr sourceMgr;
    std::string included;
    std::string path = std::string(DLC_EXAMPLES_DIR) + "/" + m.file;
    if (!sourceMgr.AddIncludeFile(path, llvm::SMLoc(), included)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    OwningOpRef<ModuleOp> imported = dlc::importModel(sourceMgr, &context);
    if (!imported)
      return 1;
    Figures figures[2];
    for (int v = 0; v < 2; ++v) {
      std::string object =
          (dir + "/" + m.name + "-" + variants[v].name + ".o").str();
      if (!compileTo(*imported, variants[v].inPlace, object) ||
          !runVariant(self.c_str(), object, steps, figures[v])) {
        std::fprintf(stderr, "%s %s: failed\n", m.name, variants[v].name);
        status = 1;
        continue;
      }
      const Figures &f = figures[v];
      std::printf("%-13s %-10s %16.2f %16.2f %12lld %15.1f %15.1f\n", m.name,
                  variants[v].name, mib(f.persistent), mib(f.bytesPerStep),
                  (long long)f.callsPerStep, mib(f.peak), mib(f.baseline));
      std::fflush(stdout);
      llvm::sys::fs::remove(object);
    }
  }
  llvm::sys::fs::remove(dir);
  return status;
}
