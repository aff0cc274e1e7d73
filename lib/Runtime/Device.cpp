//===- Device.cpp - The memory the compiled code runs on ------------------===//
//
// What every device shares (default staging memory) and the choice of the
// device from the model table's code.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Device.h"
#include "dlc/Runtime/CUDADevice.h"

#include <cstdlib>
#include <cstring>

using namespace dlc::runtime;

llvm::StringRef dlc::runtime::deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::CPU:
    return "cpu";
  case DeviceKind::CUDA:
    return "cuda";
  }
  return "?";
}

Device::~Device() = default;

/// aligned_alloc wants a non-zero size that is a multiple of the alignment.
static size_t roundedSize(size_t bytes) {
  return std::max<size_t>(64, (bytes + 63) / 64 * 64);
}

llvm::Expected<void *> Device::allocateHost(size_t bytes) {
  size_t rounded = roundedSize(bytes);
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    return llvm::createStringError("out of host memory allocating %zu bytes",
                                   rounded);
  std::memset(p, 0, rounded);
  return p;
}

void Device::freeHost(void *memory) { std::free(memory); }

llvm::Error Device::prefetchToDevice(DeviceBuffer dst, const void *src,
                                     size_t bytes) {
  return copyToDevice(dst, src, bytes);
}

llvm::Error Device::call(const dlc_function_info &fn, void **args,
                         llvm::ArrayRef<const void *> buffers) {
  fn.packed(args);
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Device>>
dlc::runtime::createDevice(int32_t code) {
  switch (code) {
  case static_cast<int32_t>(DeviceKind::CPU):
    return std::make_unique<CPUDevice>();
  case static_cast<int32_t>(DeviceKind::CUDA):
    return createCUDADevice();
  }
  return llvm::createStringError("model table: unknown device code %d",
                                 static_cast<int>(code));
}
