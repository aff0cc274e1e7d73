//===- CUDADevice.cpp - An NVIDIA GPU through the CUDA driver API ---------===//
//
// The CUDA device of the runtime, and the functions the CUDA target's host
// code calls (dlc_cuda_launch, the _mlir_memref_to_llvm_* allocation
// hooks).
//
// * The driver is opened at run time (dlopen of libcuda.so.1): the runtime
//   builds and links without the CUDA toolkit, and a program without a GPU
//   says so instead of failing to start. cuda.h renames entry points by
//   macro (cuMemAlloc is cuMemAlloc_v2), so the versioned names are looked
//   up; the types below are the ABI's, declared here for the same reason.
// * One primary context, one stream: every copy and kernel runs in order.
// * The kernel image (PTX, and a cubin when ptxas was found at compile
//   time) is loaded at the first launch: the cubin first, the driver's JIT
//   of the PTX when the cubin is not for this GPU.
// * Temporaries of the compiled code come from a cache that never returns
//   memory to the driver: after the first step no step allocates, and the
//   addresses a captured graph uses stay valid.
// * A step is run once directly (warm-up: module load, temporaries), then
//   captured once per set of bound buffers as a CUDA graph, which every
//   later call replays (DLC_CUDA_GRAPHS=0 turns this off).
// * The next step's batch is uploaded on a second stream while this step
//   runs (prefetchToDevice, from the trainer's prefetch thread); the next
//   call makes the step's stream wait for that copy's event first, outside
//   any capture, so the graphs hold kernels only.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/CUDADevice.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace dlc::runtime;

namespace {

// The driver API's ABI (cuda.h), as far as this file uses it.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
using CUevent = struct CUevent_st *;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_STREAM_NON_BLOCKING = 1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

/// The driver entry points, by their exported (versioned) names.
struct Driver {
  void *library = nullptr;
#define DLC_CU_FN(name, symbol, ...) CUresult (*name)(__VA_ARGS__) = nullptr;
#include "CUDADriverFunctions.def"
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  // Events: for DLC_CUDA_PROFILE and the batch prefetch (optional: without
  // them both are off).
  CUresult (*cuEventCreate)(CUevent *, unsigned) = nullptr;
  CUresult (*cuEventRecord)(CUevent, CUstream) = nullptr;
  CUresult (*cuEventDestroy)(CUevent) = nullptr;
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent) = nullptr;
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent) = nullptr;

  /// Loads every entry point; a message on failure.
  std::string load() {
    const char *names[] = {"libcuda.so.1", "libcuda.so"};
    std::string errors;
    for (const char *name : names) {
      library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (library)
        break;
      const char *e = dlerror();
      errors += std::string(errors.empty() ? "" : "; ") + (e ? e : name);
    }
    if (!library)
      return "no CUDA driver was found (" + errors + ")";
    auto resolve = [&](auto &fn, const char *symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(library, symbol));
      return fn != nullptr;
    };
#define DLC_CU_FN(name, symbol, ...)                                           \
  if (!resolve(name, symbol))                                                  \
    return "the CUDA driver has no " symbol " (driver too old?)";
#include "CUDADriverFunctions.def"
    if (!resolve(cuGetErrorName, "cuGetErrorName") ||
        !resolve(cuGetErrorString, "cuGetErrorString"))
      return "the CUDA driver has no cuGetErrorName";
    resolve(cuEventCreate, "cuEventCreate");
    resolve(cuEventRecord, "cuEventRecord");
    resolve(cuEventSynchronize, "cuEventSynchronize");
    resolve(cuEventDestroy, "cuEventDestroy_v2");
    resolve(cuStreamWaitEvent, "cuStreamWaitEvent");
    if (!resolve(cuEventElapsedTime, "cuEventElapsedTime_v2"))
      resolve(cuEventElapsedTime, "cuEventElapsedTime");
    return {};
  }

  /// "cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
  std::string describe(const char *call, CUresult result) const {
    const char *name = nullptr, *text = nullptr;
    if (cuGetErrorName)
      cuGetErrorName(result, &name);
    if (cuGetErrorString)
      cuGetErrorString(result, &text);
    return llvm::formatv("{0} failed: {1} ({2})", call,
                         name ? name : "unknown error",
                         text ? text : std::to_string(result))
        .str();
  }
};

class CUDADeviceImpl;
/// The device the compiled host code launches on (one per process).
CUDADeviceImpl *activeDevice = nullptr;

class CUDADeviceImpl final : public Device {
public:
  CUDADeviceImpl() : Device(DeviceKind::CUDA) {}
  ~CUDADeviceImpl() override;

  std::string open();

  llvm::StringRef getName() const override { return name; }
  llvm::Expected<DeviceBuffer> allocate(size_t bytes) override;
  void free(DeviceBuffer buffer) override;
  llvm::Error copyToDevice(DeviceBuffer dst, const void *src,
                           size_t bytes) override;
  llvm::Error copyToHost(void *dst, DeviceBuffer src, size_t bytes) override;
  llvm::Error copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                           size_t bytes) override;
  llvm::Error prefetchToDevice(DeviceBuffer dst, const void *src,
                               size_t bytes) override;
  llvm::Error synchronize() override;
  void *hostAddress(DeviceBuffer) const override { return nullptr; }
  llvm::Expected<void *> allocateHost(size_t bytes) override;
  void freeHost(void *memory) override;
  llvm::Error call(const dlc_function_info &fn, void **args,
                   llvm::ArrayRef<const void *> buffers) override;

  // The compiled host code's hooks.
  void launch(const void *image, void **slot, const char *kernel,
              const int64_t grid[3], const int64_t block[3], int32_t shared,
              void **params);
  void *allocateTemporary(size_t bytes);
  void freeTemporary(void *address);

private:
  /// Records the first failure of the compiled code (its hooks return
  /// nothing); call() reports it.
  void fail(std::string message) {
    if (stickyError.empty())
      stickyError = std::move(message);
  }
  llvm::Error check(const char *call, CUresult result) {
    if (result == CUDA_SUCCESS)
      return llvm::Error::success();
    return llvm::createStringError(driver.describe(call, result));
  }
  llvm::Error takeStickyError() {
    if (stickyError.empty())
      return llvm::Error::success();
    std::string message = std::move(stickyError);
    stickyError.clear();
    return llvm::createStringError(message);
  }
  CUmodule loadModule(const void *image);
  /// Makes `stream` wait for the prefetched copies queued so far.
  llvm::Error waitForPrefetch();

  Driver driver;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  /// The batch prefetch: its stream, the event after its latest copy, and
  /// whether `stream` has yet to wait for it (prefetchToDevice runs on the
  /// trainer's prefetch thread).
  CUstream copyStream = nullptr;
  CUevent copied = nullptr;
  std::mutex copyMutex;
  bool copyPending = false;
  std::string name = "cuda";
  std::string stickyError;
  std::map<const void *, CUmodule> modules;
  /// The temporaries' cache: free blocks by size, and each block's size.
  std::multimap<size_t, CUdeviceptr> freeBlocks;
  llvm::DenseMap<void *, size_t> blockSizes;
  /// Captured steps by entry point and bound buffers.
  struct Captured {
    unsigned calls = 0;
    CUgraphExec exec = nullptr;
  };
  std::map<std::pair<const dlc_function_info *, std::vector<const void *>>,
           Captured>
      graphs;
  bool useGraphs = true;
  /// DLC_CUDA_PROFILE=1: every launch timed with events (no graphs), the
  /// totals per kernel printed when the device closes.
  bool profile = false;
  CUevent profileStart = nullptr, profileEnd = nullptr;
  std::map<std::string, std::pair<double, unsigned>> kernelTimes;
  void printProfile();
};

/// The image layout dlc-cuda-embed-kernels emits (dlc_cuda_image).
struct KernelImage {
  const char *ptx;
  int64_t ptxSize;
  const void *cubin;
  int64_t cubinSize;
};

std::string CUDADeviceImpl::open() {
  std::string problem = driver.load();
  if (!problem.empty())
    return problem;
  if (CUresult r = driver.cuInit(0))
    return "no CUDA GPU could be used: " + driver.describe("cuInit", r);
  int count = 0;
  if (CUresult r = driver.cuDeviceGetCount(&count))
    return driver.describe("cuDeviceGetCount", r);
  if (count == 0)
    return "no CUDA GPU was found (the driver reports none)";
  int ordinal = 0;
  if (const char *env = std::getenv("DLC_CUDA_DEVICE"))
    ordinal = std::atoi(env);
  if (ordinal < 0 || ordinal >= count)
    return llvm::formatv("DLC_CUDA_DEVICE={0}, but there are {1} GPUs", ordinal,
                         count)
        .str();
  if (CUresult r = driver.cuDeviceGet(&device, ordinal))
    return driver.describe("cuDeviceGet", r);
  char deviceName[256] = {0};
  if (CUresult r =
          driver.cuDeviceGetName(deviceName, sizeof(deviceName) - 1, device))
    return driver.describe("cuDeviceGetName", r);
  int major = 0, minor = 0;
  driver.cuDeviceGetAttribute(
      &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
  driver.cuDeviceGetAttribute(
      &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
  name = llvm::formatv("cuda:{0} ({1}, sm_{2}{3})", ordinal, deviceName, major,
                       minor)
             .str();
  if (CUresult r = driver.cuDevicePrimaryCtxRetain(&context, device))
    return driver.describe("cuDevicePrimaryCtxRetain", r);
  if (CUresult r = driver.cuCtxSetCurrent(context))
    return driver.describe("cuCtxSetCurrent", r);
  if (CUresult r = driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING))
    return driver.describe("cuStreamCreate", r);
  if (driver.cuEventCreate && driver.cuEventRecord &&
      driver.cuStreamWaitEvent && driver.cuEventDestroy) {
    if (CUresult r = driver.cuStreamCreate(&copyStream, CU_STREAM_NON_BLOCKING))
      return driver.describe("cuStreamCreate", r);
    if (CUresult r = driver.cuEventCreate(&copied, CU_EVENT_DISABLE_TIMING))
      return driver.describe("cuEventCreate", r);
  }
  if (const char *env = std::getenv("DLC_CUDA_GRAPHS"))
    useGraphs = std::strcmp(env, "0") != 0;
  if (const char *env = std::getenv("DLC_CUDA_PROFILE");
      env && std::strcmp(env, "0") != 0 && driver.cuEventCreate &&
      driver.cuEventRecord && driver.cuEventSynchronize &&
      driver.cuEventElapsedTime && !driver.cuEventCreate(&profileStart, 0) &&
      !driver.cuEventCreate(&profileEnd, 0)) {
    profile = true;
    useGraphs = false;
  }
  activeDevice = this;
  return {};
}

CUDADeviceImpl::~CUDADeviceImpl() {
  if (activeDevice == this)
    activeDevice = nullptr;
  if (!driver.library || !context)
    return;
  driver.cuStreamSynchronize(stream);
  if (copyStream)
    driver.cuStreamSynchronize(copyStream);
  if (profile)
    printProfile();
  for (auto &[key, captured] : graphs)
    if (captured.exec)
      driver.cuGraphExecDestroy(captured.exec);
  for (auto &[size, block] : freeBlocks)
    driver.cuMemFree(block);
  for (auto &[image, module] : modules)
    driver.cuModuleUnload(module);
  if (copied)
    driver.cuEventDestroy(copied);
  if (copyStream)
    driver.cuStreamDestroy(copyStream);
  driver.cuStreamDestroy(stream);
  driver.cuDevicePrimaryCtxRelease(device);
}

llvm::Expected<DeviceBuffer> CUDADeviceImpl::allocate(size_t bytes) {
  CUdeviceptr address = 0;
  // cuMemAlloc refuses 0 bytes; its blocks are 256-byte aligned.
  size_t rounded = std::max<size_t>(bytes, 256);
  if (llvm::Error e =
          check("cuMemAlloc_v2", driver.cuMemAlloc(&address, rounded)))
    return llvm::createStringError(
        llvm::formatv("allocating {0} bytes on {1}: {2}", bytes, name,
                      llvm::toString(std::move(e)))
            .str());
  if (llvm::Error e =
          check("cuMemsetD8Async",
                driver.cuMemsetD8Async(address, 0, rounded, stream)))
    return std::move(e);
  return DeviceBuffer{reinterpret_cast<void *>(address), bytes};
}

void CUDADeviceImpl::free(DeviceBuffer buffer) {
  if (!buffer)
    return;
  driver.cuStreamSynchronize(stream);
  if (copyStream)
    driver.cuStreamSynchronize(copyStream);
  driver.cuMemFree(reinterpret_cast<CUdeviceptr>(buffer.address));
}

llvm::Error CUDADeviceImpl::copyToDevice(DeviceBuffer dst, const void *src,
                                         size_t bytes) {
  if (!bytes)
    return llvm::Error::success();
  return check(
      "cuMemcpyHtoDAsync_v2",
      driver.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst.address), src,
                               bytes, stream));
}

llvm::Error CUDADeviceImpl::copyToHost(void *dst, DeviceBuffer src,
                                       size_t bytes) {
  if (!bytes)
    return llvm::Error::success();
  if (llvm::Error e = check(
          "cuMemcpyDtoHAsync_v2",
          driver.cuMemcpyDtoHAsync(
              dst, reinterpret_cast<CUdeviceptr>(src.address), bytes, stream)))
    return e;
  // The step's stream only: a prefetch in flight need not finish.
  if (llvm::Error e =
          check("cuStreamSynchronize", driver.cuStreamSynchronize(stream)))
    return e;
  return takeStickyError();
}

llvm::Error CUDADeviceImpl::copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                                         size_t bytes) {
  if (!bytes)
    return llvm::Error::success();
  return check("cuMemcpyDtoDAsync_v2",
               driver.cuMemcpyDtoDAsync(
                   reinterpret_cast<CUdeviceptr>(dst.address),
                   reinterpret_cast<CUdeviceptr>(src.address), bytes, stream));
}

llvm::Error CUDADeviceImpl::prefetchToDevice(DeviceBuffer dst, const void *src,
                                             size_t bytes) {
  if (!copyStream)
    return copyToDevice(dst, src, bytes);
  if (!bytes)
    return llvm::Error::success();
  std::lock_guard<std::mutex> lock(copyMutex);
  // The calling thread (the prefetcher's) needs the context current.
  if (llvm::Error e = check("cuCtxSetCurrent", driver.cuCtxSetCurrent(context)))
    return e;
  if (llvm::Error e = check(
          "cuMemcpyHtoDAsync_v2",
          driver.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst.address),
                                   src, bytes, copyStream)))
    return e;
  // Recorded after every copy: the latest record covers all of them.
  if (llvm::Error e =
          check("cuEventRecord", driver.cuEventRecord(copied, copyStream)))
    return e;
  copyPending = true;
  return llvm::Error::success();
}

llvm::Error CUDADeviceImpl::waitForPrefetch() {
  std::lock_guard<std::mutex> lock(copyMutex);
  if (!copyPending)
    return llvm::Error::success();
  copyPending = false;
  return check("cuStreamWaitEvent",
               driver.cuStreamWaitEvent(stream, copied, 0));
}

llvm::Error CUDADeviceImpl::synchronize() {
  // A kernel's fault surfaces at the next synchronization.
  if (llvm::Error e =
          check("cuStreamSynchronize", driver.cuStreamSynchronize(stream)))
    return e;
  if (copyStream)
    if (llvm::Error e = check("cuStreamSynchronize",
                              driver.cuStreamSynchronize(copyStream)))
      return e;
  return takeStickyError();
}

llvm::Expected<void *> CUDADeviceImpl::allocateHost(size_t bytes) {
  void *memory = nullptr;
  size_t rounded = std::max<size_t>(bytes, 64);
  if (llvm::Error e =
          check("cuMemAllocHost_v2", driver.cuMemAllocHost(&memory, rounded)))
    return std::move(e);
  std::memset(memory, 0, rounded);
  return memory;
}

void CUDADeviceImpl::freeHost(void *memory) {
  if (!memory)
    return;
  driver.cuStreamSynchronize(stream);
  driver.cuMemFreeHost(memory);
}

llvm::Error CUDADeviceImpl::call(const dlc_function_info &fn, void **args,
                                 llvm::ArrayRef<const void *> buffers) {
  // Before the step, outside any capture: its batch may still be on its
  // way.
  if (llvm::Error e = waitForPrefetch())
    return e;
  Captured &captured =
      graphs[{&fn, std::vector<const void *>(buffers.begin(), buffers.end())}];
  if (captured.exec)
    return check("cuGraphLaunch", driver.cuGraphLaunch(captured.exec, stream));
  // The first call runs directly: it loads the module and fills the
  // temporaries' cache, so that the capture allocates nothing.
  if (!useGraphs || captured.calls++ == 0) {
    fn.packed(args);
    return takeStickyError();
  }
  if (llvm::Error e = check(
          "cuStreamBeginCapture_v2",
          driver.cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_RELAXED)))
    return e;
  fn.packed(args);
  CUgraph graph = nullptr;
  CUresult ended = driver.cuStreamEndCapture(stream, &graph);
  if (llvm::Error e = takeStickyError()) {
    if (graph)
      driver.cuGraphDestroy(graph);
    return e;
  }
  if (llvm::Error e = check("cuStreamEndCapture", ended))
    return e;
  CUresult instantiated =
      driver.cuGraphInstantiateWithFlags(&captured.exec, graph, 0);
  driver.cuGraphDestroy(graph);
  if (llvm::Error e = check("cuGraphInstantiateWithFlags", instantiated))
    return e;
  return check("cuGraphLaunch", driver.cuGraphLaunch(captured.exec, stream));
}

CUmodule CUDADeviceImpl::loadModule(const void *image) {
  auto it = modules.find(image);
  if (it != modules.end())
    return it->second;
  const auto *kernels = static_cast<const KernelImage *>(image);
  CUmodule module = nullptr;
  std::string cubinProblem;
  if (kernels->cubinSize > 0) {
    CUresult r = driver.cuModuleLoadData(&module, kernels->cubin);
    if (r != CUDA_SUCCESS) {
      cubinProblem = driver.describe("cuModuleLoadData (cubin)", r);
      module = nullptr;
    }
  }
  if (!module) {
    // The PTX, compiled by the driver for this GPU.
    char log[8192] = {0};
    int options[] = {CU_JIT_ERROR_LOG_BUFFER,
                     CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1)};
    CUresult r =
        driver.cuModuleLoadDataEx(&module, kernels->ptx, 2, options, values);
    if (r != CUDA_SUCCESS) {
      fail(driver.describe("cuModuleLoadDataEx (PTX JIT)", r) +
           (log[0] ? std::string(": ") + log : std::string()) +
           (cubinProblem.empty() ? "" : "; before that " + cubinProblem));
      return nullptr;
    }
  }
  modules[image] = module;
  return module;
}

void CUDADeviceImpl::launch(const void *image, void **slot, const char *kernel,
                            const int64_t grid[3], const int64_t block[3],
                            int32_t shared, void **params) {
  if (!stickyError.empty())
    return;
  auto function = static_cast<CUfunction>(*slot);
  if (!function) {
    CUmodule module = loadModule(image);
    if (!module)
      return;
    if (CUresult r = driver.cuModuleGetFunction(&function, module, kernel))
      return fail(driver.describe("cuModuleGetFunction", r) + " for kernel " +
                  kernel);
    *slot = function;
  }
  if (profile)
    driver.cuEventRecord(profileStart, stream);
  if (CUresult r = driver.cuLaunchKernel(function, grid[0], grid[1], grid[2],
                                         block[0], block[1], block[2], shared,
                                         stream, params, nullptr))
    return fail(driver.describe("cuLaunchKernel", r) + " for kernel " + kernel);
  if (profile) {
    float ms = 0;
    driver.cuEventRecord(profileEnd, stream);
    driver.cuEventSynchronize(profileEnd);
    driver.cuEventElapsedTime(&ms, profileStart, profileEnd);
    auto &[total, count] = kernelTimes
        [llvm::formatv("{0} <<<{1},{2}>>>", kernel, grid[0], block[0]).str()];
    total += ms;
    ++count;
  }
}

void CUDADeviceImpl::printProfile() {
  std::vector<std::pair<double, std::string>> sorted;
  double sum = 0;
  for (auto &[kernel, time] : kernelTimes) {
    sorted.push_back({time.first, kernel});
    sum += time.first;
  }
  std::sort(sorted.rbegin(), sorted.rend());
  std::fprintf(stderr,
               "dlc: kernel time (DLC_CUDA_PROFILE): %zu kernels, %.2f ms in "
               "all\n",
               sorted.size(), sum);
  for (auto &[ms, kernel] : sorted)
    std::fprintf(stderr, "  %9.3f ms %5.1f%%  %s (x%u)\n", ms,
                 sum > 0 ? 100 * ms / sum : 0.0, kernel.c_str(),
                 kernelTimes[kernel].second);
}

void *CUDADeviceImpl::allocateTemporary(size_t bytes) {
  size_t rounded = std::max<size_t>(256, (bytes + 255) / 256 * 256);
  auto it = freeBlocks.find(rounded);
  if (it != freeBlocks.end()) {
    CUdeviceptr block = it->second;
    freeBlocks.erase(it);
    return reinterpret_cast<void *>(block);
  }
  CUdeviceptr block = 0;
  if (CUresult r = driver.cuMemAlloc(&block, rounded)) {
    fail(driver.describe("cuMemAlloc_v2", r) +
         llvm::formatv(" for a temporary of {0} bytes", bytes).str());
    return nullptr;
  }
  blockSizes[reinterpret_cast<void *>(block)] = rounded;
  return reinterpret_cast<void *>(block);
}

void CUDADeviceImpl::freeTemporary(void *address) {
  if (!address)
    return;
  auto it = blockSizes.find(address);
  if (it == blockSizes.end())
    return fail("the compiled code freed memory it did not allocate");
  // In stream order, the next user of the block runs after this step's
  // last use of it: no synchronization needed.
  freeBlocks.emplace(it->second, reinterpret_cast<CUdeviceptr>(address));
}

} // namespace

llvm::Expected<std::unique_ptr<Device>> dlc::runtime::createCUDADevice() {
  auto device = std::make_unique<CUDADeviceImpl>();
  std::string problem = device->open();
  if (!problem.empty())
    return llvm::createStringError(
        "the model was compiled for a CUDA device (--target cuda), but " +
        problem +
        ": it needs an NVIDIA GPU and its driver (libcuda.so.1); compile it "
        "with --target cpu to run it on this machine");
  return std::move(device);
}

//===----------------------------------------------------------------------===//
// The compiled host code's hooks (see dlc-cuda-embed-kernels)
//===----------------------------------------------------------------------===//

extern "C" {

void dlc_cuda_launch(const void *image, void **slot, const char *kernel,
                     int64_t gridX, int64_t gridY, int64_t gridZ,
                     int64_t blockX, int64_t blockY, int64_t blockZ,
                     int32_t shared, void **params) {
  if (!activeDevice) {
    std::fprintf(stderr, "dlc: a CUDA kernel was launched without a CUDA "
                         "device\n");
    std::abort();
  }
  const int64_t grid[3] = {gridX, gridY, gridZ};
  const int64_t block[3] = {blockX, blockY, blockZ};
  activeDevice->launch(image, slot, kernel, grid, block, shared, params);
}

// finalize-memref-to-llvm{use-generic-functions}: the CUDA target's host
// code allocates its temporaries (device memory) through these.
void *_mlir_memref_to_llvm_alloc(size_t bytes) {
  return activeDevice ? activeDevice->allocateTemporary(bytes) : nullptr;
}

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t bytes) {
  // Blocks are 256-byte aligned; larger alignments are not requested.
  return _mlir_memref_to_llvm_alloc(bytes);
}

void _mlir_memref_to_llvm_free(void *address) {
  if (activeDevice)
    activeDevice->freeTemporary(address);
}

} // extern "C"
