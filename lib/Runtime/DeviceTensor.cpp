//===- DeviceTensor.cpp - Tensors in a device's memory --------------------===//
//
// Every host access checks Device::hostAddress first: when the host can
// address the memory, views replace copies.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/DeviceTensor.h"

#include <cassert>

using namespace dlc::runtime;

//===----------------------------------------------------------------------===//
// DeviceTensor
//===----------------------------------------------------------------------===//

llvm::Expected<DeviceTensor>
DeviceTensor::allocate(Device &device, DType dtype,
                       llvm::ArrayRef<int64_t> shape) {
  DeviceTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  t.numElements = 1;
  for (int64_t d : shape)
    t.numElements *= d;
  llvm::Expected<DeviceBuffer> buffer = device.allocate(t.getSizeInBytes());
  if (!buffer)
    return buffer.takeError();
  t.device = &device;
  t.buffer = *buffer;
  return std::move(t);
}

DeviceTensor &DeviceTensor::operator=(DeviceTensor &&other) {
  if (this == &other)
    return *this;
  if (buffer)
    device->free(buffer);
  device = other.device;
  dtype = other.dtype;
  shape = std::move(other.shape);
  numElements = other.numElements;
  buffer = other.buffer;
  other.buffer = {};
  other.numElements = 0;
  return *this;
}

DeviceTensor::~DeviceTensor() {
  if (buffer)
    device->free(buffer);
}

void *DeviceTensor::hostAddress() const {
  return device ? device->hostAddress(buffer) : nullptr;
}

Tensor DeviceTensor::hostTensor() const {
  if (void *host = hostAddress())
    return Tensor::borrow(dtype, shape, host);
  return Tensor(dtype, shape);
}

llvm::Expected<Tensor> DeviceTensor::download() const {
  Tensor host = hostTensor();
  if (host.data() == hostAddress())
    return std::move(host);
  if (llvm::Error e = device->copyToHost(host.data(), buffer, getSizeInBytes()))
    return std::move(e);
  return std::move(host);
}

llvm::Error DeviceTensor::upload(const void *data) {
  // The host view is the memory itself: nothing to copy (and memcpy of a
  // buffer onto itself would be undefined).
  if (data == hostAddress())
    return llvm::Error::success();
  return device->copyToDevice(buffer, data, getSizeInBytes());
}

llvm::Error DeviceTensor::upload(const Tensor &host) {
  assert(host.getSizeInBytes() == getSizeInBytes() && "size mismatch");
  return upload(host.data());
}

//===----------------------------------------------------------------------===//
// StagedTensor
//===----------------------------------------------------------------------===//

llvm::Expected<StagedTensor>
StagedTensor::allocate(Device &device, DType dtype,
                       llvm::ArrayRef<int64_t> shape) {
  StagedTensor t;
  llvm::Expected<DeviceTensor> onDevice =
      DeviceTensor::allocate(device, dtype, shape);
  if (!onDevice)
    return onDevice.takeError();
  t.onDevice = std::move(*onDevice);
  void *host = t.onDevice.hostAddress();
  if (!host) {
    llvm::Expected<void *> staging =
        device.allocateHost(t.onDevice.getSizeInBytes());
    if (!staging)
      return staging.takeError();
    host = t.staging = *staging;
  }
  t.view = Tensor::borrow(dtype, shape, host);
  return std::move(t);
}

StagedTensor &StagedTensor::operator=(StagedTensor &&other) {
  if (this == &other)
    return *this;
  if (staging)
    onDevice.getDevice().freeHost(staging);
  onDevice = std::move(other.onDevice);
  staging = other.staging;
  other.staging = nullptr;
  view = std::move(other.view);
  return *this;
}

StagedTensor::~StagedTensor() {
  // The view only borrows; the staging memory goes back to its device.
  if (staging)
    onDevice.getDevice().freeHost(staging);
}

llvm::Error StagedTensor::prefetch() {
  if (!staging)
    return llvm::Error::success();
  return onDevice.getDevice().prefetchToDevice(
      onDevice.getBuffer(), view.data(), onDevice.getSizeInBytes());
}

llvm::Error StagedTensor::download() {
  if (!staging)
    return llvm::Error::success();
  return onDevice.getDevice().copyToHost(view.data(), onDevice.getBuffer(),
                                         onDevice.getSizeInBytes());
}
