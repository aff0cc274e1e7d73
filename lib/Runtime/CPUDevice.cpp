//===- CPUDevice.cpp - The host as a device -------------------------------===//
//
// Device memory is host memory, so copies are memcpy and a DeviceTensor's
// host view is the buffer itself: the runtime's hot path copies nothing.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Device.h"

#include <cstdlib>
#include <cstring>

using namespace dlc::runtime;

llvm::Expected<DeviceBuffer> CPUDevice::allocate(size_t bytes) {
  // Device and staging memory are the same thing here.
  llvm::Expected<void *> memory = allocateHost(bytes);
  if (!memory)
    return memory.takeError();
  return DeviceBuffer{*memory, bytes};
}

void CPUDevice::free(DeviceBuffer buffer) { freeHost(buffer.address); }

llvm::Error CPUDevice::copyToDevice(DeviceBuffer dst, const void *src,
                                    size_t bytes) {
  std::memcpy(dst.address, src, bytes);
  return llvm::Error::success();
}

llvm::Error CPUDevice::copyToHost(void *dst, DeviceBuffer src, size_t bytes) {
  std::memcpy(dst, src.address, bytes);
  return llvm::Error::success();
}

llvm::Error CPUDevice::copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                                    size_t bytes) {
  std::memcpy(dst.address, src.address, bytes);
  return llvm::Error::success();
}
