//===- TestDevice.cpp - Devices that show what the runtime copies ---------===//

#include "TestDevice.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;

llvm::Expected<DeviceBuffer> CountingCPUDevice::allocate(size_t bytes) {
  ++counts.allocations;
  return CPUDevice::allocate(bytes);
}

void CountingCPUDevice::free(DeviceBuffer buffer) {
  ++counts.frees;
  CPUDevice::free(buffer);
}

llvm::Error CountingCPUDevice::copyToDevice(DeviceBuffer dst, const void *src,
                                            size_t bytes) {
  ++counts.copiesToDevice;
  counts.bytesToDevice += bytes;
  return CPUDevice::copyToDevice(dst, src, bytes);
}

llvm::Error CountingCPUDevice::copyToHost(void *dst, DeviceBuffer src,
                                          size_t bytes) {
  ++counts.copiesToHost;
  counts.bytesToHost += bytes;
  return CPUDevice::copyToHost(dst, src, bytes);
}

llvm::Error CountingCPUDevice::copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                                            size_t bytes) {
  ++counts.copiesOnDevice;
  counts.bytesOnDevice += bytes;
  return CPUDevice::copyOnDevice(dst, src, bytes);
}

llvm::Error CountingCPUDevice::synchronize() {
  ++counts.synchronizations;
  return CPUDevice::synchronize();
}

llvm::Expected<DeviceBuffer> HostInvisibleDevice::allocate(size_t bytes) {
  if (int64_t(bytes) > capacity - allocated)
    return llvm::createStringError(
        "out of device memory (%zu bytes requested, %lld free)", bytes,
        (long long)(capacity - allocated));
  allocated += bytes;
  ++counts.allocations;
  // Memory the compiled (fake) code can use, taken from the base class's
  // host allocator; only hostAddress hides it from the runtime.
  llvm::Expected<void *> memory = Device::allocateHost(bytes);
  if (!memory)
    return memory.takeError();
  return DeviceBuffer{*memory, bytes};
}

void HostInvisibleDevice::free(DeviceBuffer buffer) {
  allocated -= buffer.size;
  ++counts.frees;
  Device::freeHost(buffer.address);
}

llvm::Error HostInvisibleDevice::copyToDevice(DeviceBuffer dst, const void *src,
                                              size_t bytes) {
  EXPECT_LE(bytes, dst.size);
  ++counts.copiesToDevice;
  counts.bytesToDevice += bytes;
  std::memcpy(dst.address, src, bytes);
  return llvm::Error::success();
}

llvm::Error HostInvisibleDevice::prefetchToDevice(DeviceBuffer dst,
                                                  const void *src,
                                                  size_t bytes) {
  EXPECT_LE(bytes, dst.size);
  std::lock_guard<std::mutex> lock(mutex);
  ++counts.prefetches;
  pending.push_back({dst, src, bytes});
  return llvm::Error::success();
}

llvm::Error HostInvisibleDevice::call(const dlc_function_info &fn, void **args,
                                      llvm::ArrayRef<const void *> buffers) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (const Pending &copy : pending)
      if (llvm::Error e = copyToDevice(copy.dst, copy.src, copy.bytes))
        return e;
    pending.clear();
  }
  return Device::call(fn, args, buffers);
}

llvm::Error HostInvisibleDevice::copyToHost(void *dst, DeviceBuffer src,
                                            size_t bytes) {
  EXPECT_LE(bytes, src.size);
  ++counts.copiesToHost;
  counts.bytesToHost += bytes;
  std::memcpy(dst, src.address, bytes);
  return llvm::Error::success();
}

llvm::Error HostInvisibleDevice::copyOnDevice(DeviceBuffer dst,
                                              DeviceBuffer src, size_t bytes) {
  EXPECT_LE(bytes, dst.size);
  EXPECT_LE(bytes, src.size);
  ++counts.copiesOnDevice;
  counts.bytesOnDevice += bytes;
  std::memcpy(dst.address, src.address, bytes);
  return llvm::Error::success();
}

llvm::Error HostInvisibleDevice::synchronize() {
  ++counts.synchronizations;
  return llvm::Error::success();
}

llvm::Expected<void *> HostInvisibleDevice::allocateHost(size_t bytes) {
  ++counts.hostAllocations;
  return Device::allocateHost(bytes);
}

void HostInvisibleDevice::freeHost(void *memory) {
  ++counts.hostFrees;
  Device::freeHost(memory);
}

std::vector<Tensor>
dlc::runtime::testing::downloadAll(llvm::ArrayRef<DeviceTensor> tensors) {
  std::vector<Tensor> host;
  for (const DeviceTensor &tensor : tensors) {
    llvm::Expected<Tensor> values = tensor.download();
    if (!values) {
      ADD_FAILURE() << llvm::toString(values.takeError());
      host.emplace_back();
      continue;
    }
    host.push_back(std::move(*values));
  }
  return host;
}
