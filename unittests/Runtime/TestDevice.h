//===- TestDevice.h - Devices that show what the runtime copies -*- C++ -*-===//
//
// Two devices for tests of the device layer:
//  * CountingCPUDevice is the CPU device, counting what it is asked to do,
//    to show that steps on the CPU allocate and copy nothing;
//  * HostInvisibleDevice stands in for a device whose memory the host
//    cannot address (CUDA): its buffers are host memory, so the fake model
//    can compute on them, but hostAddress is null, so the runtime has to
//    stage and copy every byte that crosses. A missed upload or download
//    shows up as results that differ from the CPU device's. Like the CUDA
//    device, it uploads prefetched batches late: prefetchToDevice only
//    notes the copy, the next call() makes it, so a batch the runtime
//    skipped uploading, or changed after prefetching, differs too.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_UNITTESTS_RUNTIME_TESTDEVICE_H
#define DLC_UNITTESTS_RUNTIME_TESTDEVICE_H

#include "dlc/Runtime/Device.h"
#include "dlc/Runtime/DeviceTensor.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace dlc::runtime::testing {

/// What a device was asked to do.
struct DeviceCounts {
  int64_t allocations = 0, frees = 0, hostAllocations = 0, hostFrees = 0;
  int64_t copiesToDevice = 0, copiesToHost = 0, copiesOnDevice = 0;
  int64_t bytesToDevice = 0, bytesToHost = 0, bytesOnDevice = 0;
  int64_t synchronizations = 0;
  int64_t prefetches = 0;
  int64_t copies() const {
    return copiesToDevice + copiesToHost + copiesOnDevice;
  }
};

class CountingCPUDevice : public CPUDevice {
public:
  DeviceCounts counts;

  llvm::Expected<DeviceBuffer> allocate(size_t bytes) override;
  void free(DeviceBuffer buffer) override;
  llvm::Error copyToDevice(DeviceBuffer dst, const void *src,
                           size_t bytes) override;
  llvm::Error copyToHost(void *dst, DeviceBuffer src, size_t bytes) override;
  llvm::Error copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                           size_t bytes) override;
  llvm::Error synchronize() override;
};

class HostInvisibleDevice : public Device {
public:
  HostInvisibleDevice() : Device(DeviceKind::CUDA) {}
  DeviceCounts counts;
  /// Allocations beyond this many bytes in all fail, as on a full GPU.
  int64_t capacity = INT64_MAX, allocated = 0;

  llvm::StringRef getName() const override { return "host-invisible"; }
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

private:
  struct Pending {
    DeviceBuffer dst;
    const void *src;
    size_t bytes;
  };
  /// Prefetched copies not made yet; prefetchToDevice may run on another
  /// thread.
  std::mutex mutex;
  std::vector<Pending> pending;
};

/// The values of device tensors on the host (fails the test on an error).
std::vector<Tensor> downloadAll(llvm::ArrayRef<DeviceTensor> tensors);

} // namespace dlc::runtime::testing

#endif // DLC_UNITTESTS_RUNTIME_TESTDEVICE_H
