//===- TestSupport.cpp - Compile, call and compare in e2e tests -----------===//

#include "TestSupport.h"

#include "dlc/InitAll.h"
#include "dlc/Target/CPU/CPUTarget.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <utility>

using namespace dlc::test;

std::string dlc::test::shapeString(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

HostTensor HostTensor::f32(std::vector<int64_t> shape, float value) {
  HostTensor t;
  t.dims = std::move(shape);
  t.floats.assign(t.numElements(), value);
  return t;
}

HostTensor HostTensor::i32(std::vector<int64_t> shape, int32_t value) {
  HostTensor t;
  t.dims = std::move(shape);
  t.isI32 = true;
  t.ints.assign(t.numElements(), value);
  return t;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::string HostTensor::type() const {
  std::string s = "tensor<" + shapeString(dims);
  return s + (dims.empty() ? "" : "x") + (isI32 ? "i32>" : "f32>");
}

void *HostTensor::descriptor() {
  void *data = isI32 ? static_cast<void *>(ints.data())
                     : static_cast<void *>(floats.data());
  int64_t rank = dims.size();
  desc.assign(3 + 2 * rank, 0);
  desc[0] = desc[1] = reinterpret_cast<intptr_t>(data);
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    desc[3 + d] = dims[d];
    desc[3 + rank + d] = stride;
    stride *= dims[d];
  }
  return desc.data();
}

HostTensor &HostTensor::randomize(std::mt19937 &rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float &v : floats)
    v = dist(rng);
  return *this;
}

/// Where compiled test modules are kept between test processes: ctest runs
/// every case in its own process, and each would otherwise recompile its
/// whole suite. Empty: no cache.
static std::string objectCacheDir() {
  if (const char *dir = std::getenv("DLC_TEST_OBJECT_CACHE"))
    return dir;
#ifdef DLC_TEST_OBJECT_CACHE_DIR
  return DLC_TEST_OBJECT_CACHE_DIR;
#else
  return "";
#endif
}

/// The stamp of this very test binary: its size and mtime stand for the
/// compiler's version, so a rebuilt compiler never reuses stale objects.
static std::string binaryStamp() {
  llvm::sys::fs::file_status exe;
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  (void)llvm::sys::fs::status(self, exe);
  return llvm::utohexstr(llvm::xxh3_64bits(
      self + "\n" + std::to_string(exe.getSize()) + "\n" +
      std::to_string(
          exe.getLastModificationTime().time_since_epoch().count())));
}

/// The cache file name of an object compiled from `source` with `options`
/// after `passes`: "<binary stamp>-<hash of source, passes and options>.o".
static std::string
objectCacheKey(const std::string &source, const std::string &passes,
               const mlir::dlc::CPUPipelineOptions &options) {
  std::string identity = source + "\n" + passes + "\n" + options.cpu + "\n" +
                         options.features + "\n" +
                         std::to_string(options.vectorize) + "\n" +
                         std::to_string(options.vectorLanes) + "\n" +
                         std::to_string(options.accumulatorRegisters) + "\n" +
                         std::to_string(options.llvmOptLevel);
  return binaryStamp() + "-" + llvm::utohexstr(llvm::xxh3_64bits(identity)) +
         ".o";
}

/// Deletes the objects of other builds of this binary (other stamps), so
/// that the cache holds one build's worth of objects.
static void pruneObjectCache(const std::string &dir) {
  std::string keep = binaryStamp() + "-";
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (name.ends_with(".o") && !name.starts_with(keep))
      (void)llvm::sys::fs::remove(it->path());
  }
}

/// The compiler library's stages after the test's passes: linalg (which
/// records the model description when the module has step functions), the
/// CPU target's pipeline (which turns it into the runtime's table) and its
/// object.
static llvm::Error
compileWithModelInfo(mlir::ModuleOp module, llvm::raw_pwrite_stream &os,
                     const mlir::dlc::CPUPipelineOptions &options) {
  std::unique_ptr<mlir::dlc::Target> target =
      mlir::dlc::createCPUTarget(options);
  if (failed(mlir::dlc::lowerToLinalg(module)))
    return llvm::createStringError("lowering to linalg failed");
  if (failed(mlir::dlc::lowerForTarget(module, *target)))
    return llvm::createStringError("lowering to the LLVM dialect failed");
  return target->emit(module, "obj", os);
}

std::unique_ptr<mlir::dlc::LoadedObject>
dlc::test::compileSource(const std::string &source,
                         const mlir::dlc::CPUPipelineOptions &options,
                         const std::string &passes) {
  // DLC_TEST_CPU=x86-64-v3 runs the suite on the AVX2 schedule and code on
  // a host with AVX-512 (ctest runs both).
  mlir::dlc::CPUPipelineOptions effective = options;
  // (Only on a host that can run AVX2 code; elsewhere the host's code is
  // tested twice rather than crashing.)
  if (const char *cpu = std::getenv("DLC_TEST_CPU");
      cpu && effective.cpu.empty() &&
      llvm::sys::getHostCPUFeatures().lookup("avx2"))
    effective.cpu = cpu;
  // DLC_TEST_VECTORIZE=0 checks the plain-loops pipeline instead.
  if (const char *vectorize = std::getenv("DLC_TEST_VECTORIZE"))
    effective.vectorize = std::string(vectorize) != "0";

  std::string cacheDir = objectCacheDir(), cachePath;
  if (!cacheDir.empty()) {
    llvm::SmallString<256> path(cacheDir);
    llvm::sys::path::append(path, objectCacheKey(source, passes, effective));
    cachePath = std::string(path);
    if (auto cached = llvm::MemoryBuffer::getFile(cachePath)) {
      auto object = mlir::dlc::LoadedObject::load(std::move(*cached));
      if (object)
        return std::move(*object);
      llvm::consumeError(object.takeError());
    }
  }

  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module) {
    ADD_FAILURE() << "cannot parse the test module:\n"
                  << diagnostics << "\n"
                  << source;
    return nullptr;
  }
  if (!passes.empty()) {
    static bool registered = (mlir::dlc::registerAllDLCPasses(), true);
    (void)registered;
    mlir::PassManager pm(&context);
    if (failed(mlir::parsePassPipeline(passes, pm)) ||
        failed(pm.run(*module))) {
      ADD_FAILURE() << "the pass pipeline '" << passes << "' failed:\n"
                    << diagnostics;
      return nullptr;
    }
  }
  llvm::SmallString<0> bytes;
  llvm::raw_svector_ostream os(bytes);
  if (llvm::Error error = compileWithModelInfo(*module, os, effective)) {
    ADD_FAILURE() << "compilation failed: " << llvm::toString(std::move(error))
                  << "\n"
                  << diagnostics;
    return nullptr;
  }
  if (!cachePath.empty()) {
    // Write a temporary and rename it: concurrent test processes never see
    // a partial object.
    (void)llvm::sys::fs::create_directories(cacheDir);
    pruneObjectCache(cacheDir);
    std::string temp = cachePath + "." + std::to_string(::getpid()) + ".tmp";
    std::error_code ec;
    {
      llvm::raw_fd_ostream file(temp, ec);
      if (!ec)
        file << bytes;
    }
    if (!ec)
      (void)llvm::sys::fs::rename(temp, cachePath);
  }
  auto object =
      mlir::dlc::LoadedObject::load(llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(bytes.data(), bytes.size()), "test-module.o"));
  if (!object) {
    ADD_FAILURE() << "loading the object failed: "
                  << llvm::toString(object.takeError());
    return nullptr;
  }
  return std::move(*object);
}

/// Calls `fn` as a C function of `sizeof...(I)` pointer-sized arguments.
template <size_t... I>
static void callWith(void *fn, const std::vector<uintptr_t> &a,
                     std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, uintptr_t())...);
  reinterpret_cast<Fn>(fn)(a[I]...);
}

/// Picks the arity of `a` at run time, up to 64 arguments (a whole model
/// such as resnet_small passes ~50 parameters).
template <size_t N>
static void dispatch(void *fn, const std::vector<uintptr_t> &a) {
  if constexpr (N > 64) {
    ADD_FAILURE() << "call() supports up to 64 arguments, got " << a.size();
  } else {
    if (a.size() == N)
      return callWith(fn, a, std::make_index_sequence<N>());
    dispatch<N + 1>(fn, a);
  }
}

void dlc::test::call(mlir::dlc::LoadedObject &object, const std::string &name,
                     std::vector<CallArg> args) {
  auto address = object.lookup("_mlir_ciface_" + name);
  if (!address) {
    ADD_FAILURE() << llvm::toString(address.takeError());
    return;
  }
  std::vector<uintptr_t> a;
  for (CallArg &arg : args)
    a.push_back(arg.tensor
                    ? reinterpret_cast<uintptr_t>(arg.tensor->descriptor())
                    : static_cast<uintptr_t>(arg.scalar));
  dispatch<0>(*address, a);
}

::testing::AssertionResult
dlc::test::allClose(const std::vector<float> &actual,
                    const std::vector<float> &expected, float atol,
                    float rtol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure()
           << "size " << actual.size() << " != expected " << expected.size();
  size_t bad = 0, worst = 0;
  double worstExcess = -1;
  for (size_t k = 0; k < actual.size(); ++k) {
    float a = actual[k], e = expected[k];
    if (std::isnan(a) || std::isnan(e)) {
      if (std::isnan(a) != std::isnan(e)) {
        ++bad;
        worst = k;
        worstExcess = INFINITY;
      }
      continue;
    }
    double excess = std::fabs(double(a) - e) - (atol + rtol * std::fabs(e));
    if (!(excess > 0))
      continue;
    ++bad;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = k;
    }
  }
  if (bad == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << actual.size() << " elements differ (atol " << atol
         << ", rtol " << rtol << "); worst at flat index " << worst << ": got "
         << actual[worst] << ", expected " << expected[worst];
}

std::string dlc::test::makeFunction(
    const std::string &name, const std::vector<std::string> &argTypes,
    const std::string &body, const std::vector<std::string> &results,
    const std::vector<std::string> &resultTypes) {
  std::string s = "func.func @" + name + "(";
  for (size_t i = 0; i < argTypes.size(); ++i)
    s += (i ? ", %a" : "%a") + std::to_string(i) + ": " + argTypes[i];
  s += ") -> (";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    s += (i ? ", " : "") + resultTypes[i];
  s += ") {\n  " + body + "\n  return ";
  for (size_t i = 0; i < results.size(); ++i)
    s += (i ? ", " : "") + results[i];
  s += " : ";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    s += (i ? ", " : "") + resultTypes[i];
  return s + "\n}\n";
}
