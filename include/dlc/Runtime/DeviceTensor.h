//===- DeviceTensor.h - Tensors in a device's memory ------------*- C++ -*-===//
//
// A DeviceTensor owns a buffer of a Device with a dtype and a static
// row-major shape; it is what the compiled code is handed. Host code never
// dereferences its address: it asks for a host Tensor (hostTensor, download)
// and gives values back (upload). On a device with host-visible memory (the
// CPU) that host Tensor is a view of the device memory, and download and
// upload of it copy nothing; elsewhere they are the device's copies.
//
// A StagedTensor is a DeviceTensor the host fills or reads on every step
// (the batch, the step's outputs) together with its host staging memory:
// the device tensor itself on the CPU, memory from Device::allocateHost
// (pinned, on CUDA) otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DEVICETENSOR_H
#define DLC_RUNTIME_DEVICETENSOR_H

#include "dlc/Runtime/Device.h"
#include "dlc/Runtime/Tensor.h"

namespace dlc::runtime {

/// An owning, zero-filled device buffer with a dtype and a static shape.
class DeviceTensor {
public:
  /// An empty tensor (no buffer, no device).
  DeviceTensor() = default;
  static llvm::Expected<DeviceTensor> allocate(Device &device, DType dtype,
                                               llvm::ArrayRef<int64_t> shape);
  DeviceTensor(DeviceTensor &&other) { *this = std::move(other); }
  DeviceTensor &operator=(DeviceTensor &&other);
  DeviceTensor(const DeviceTensor &) = delete;
  DeviceTensor &operator=(const DeviceTensor &) = delete;
  ~DeviceTensor();

  Device &getDevice() const { return *device; }
  DType getDType() const { return dtype; }
  llvm::ArrayRef<int64_t> getShape() const { return shape; }
  int64_t getNumElements() const { return numElements; }
  size_t getSizeInBytes() const { return numElements * dtypeSize(dtype); }

  DeviceBuffer getBuffer() const { return buffer; }
  /// The device address, for the compiled code's descriptors.
  void *getAddress() const { return buffer.address; }
  /// The memory as the host sees it; null on a device without
  /// host-visible memory.
  void *hostAddress() const;

  /// A host tensor of this dtype and shape: on a host-visible device a view
  /// of this tensor's memory (no copy), otherwise new zero-filled host
  /// memory. For code that overwrites every value, then uploads.
  Tensor hostTensor() const;
  /// The tensor's values on the host: the view on a host-visible device,
  /// otherwise a downloaded copy.
  llvm::Expected<Tensor> download() const;
  /// Sets the values from getSizeInBytes() bytes of host memory; nothing to
  /// copy when `data` is this tensor's own host view.
  llvm::Error upload(const void *data);
  llvm::Error upload(const Tensor &host);

private:
  Device *device = nullptr;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  int64_t numElements = 0;
  DeviceBuffer buffer;
};

/// A device tensor with host staging memory, for data that crosses between
/// host and device on every step.
class StagedTensor {
public:
  StagedTensor() = default;
  static llvm::Expected<StagedTensor> allocate(Device &device, DType dtype,
                                               llvm::ArrayRef<int64_t> shape);
  StagedTensor(StagedTensor &&other) { *this = std::move(other); }
  StagedTensor &operator=(StagedTensor &&other);
  ~StagedTensor();

  /// The host side: what the host writes before upload() and reads after
  /// download().
  Tensor &host() { return view; }
  const Tensor &host() const { return view; }
  const DeviceTensor &device() const { return onDevice; }

  /// Host to device and device to host; nothing to copy on a host-visible
  /// device, where the staging memory is the device memory.
  llvm::Error upload() { return onDevice.upload(view); }
  /// upload() through Device::prefetchToDevice: alongside the queued work.
  llvm::Error prefetch();
  llvm::Error download();

private:
  DeviceTensor onDevice;
  /// From Device::allocateHost; null when the view is the device memory.
  void *staging = nullptr;
  Tensor view;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DEVICETENSOR_H
