//===- Device.h - The memory the compiled code runs on ----------*- C++ -*-===//
//
// The compiled entry points read and write every tensor in the memory of one
// device, the one the model table names. The runtime allocates and fills
// those buffers through a Device, so the training loop, the batcher and
// checkpoints are the same code whatever the device:
//  * persistent tensors (params, opt_state, state) live on the device and
//    come to the host only for checkpoints;
//  * each batch is assembled in host staging memory and uploaded;
//  * loss, correct and logits are downloaded after the step.
// The CPU device's memory is host memory: hostAddress() returns it, a
// staging buffer *is* the device buffer and those uploads and downloads
// copy nothing (see DeviceTensor.h). A device whose memory the host cannot
// address (CUDA) returns null there and copies instead; allocateHost lets it
// hand out staging memory that copies fast (pinned).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DEVICE_H
#define DLC_RUNTIME_DEVICE_H

#include "dlc/Runtime/ModelABI.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dlc::runtime {

/// The kinds of device a model table can name, numbered as its `device`
/// field.
enum class DeviceKind : int32_t {
  CPU = DLC_DEVICE_CPU,
  CUDA = DLC_DEVICE_CUDA
};

/// "cpu", "cuda".
llvm::StringRef deviceKindName(DeviceKind kind);

/// A region of device memory. `address` is what the compiled code is given
/// (a host pointer on the CPU, a device pointer on CUDA); the host may only
/// dereference it through Device::hostAddress.
struct DeviceBuffer {
  void *address = nullptr;
  size_t size = 0;
  explicit operator bool() const { return address != nullptr; }
};

/// Allocation and transfers of one device. Transfers to the device and on
/// it may be asynchronous: they run in order with each other and with the
/// compiled code (one stream). copyToHost returns once the bytes are on the
/// host, which waits for the work queued before it.
class Device {
public:
  virtual ~Device();

  DeviceKind getKind() const { return kind; }
  /// For messages and `info`.
  virtual llvm::StringRef getName() const = 0;

  /// `bytes` (possibly 0) of zero-filled device memory, 64-byte aligned
  /// (vector loads in compiled code rely on it).
  virtual llvm::Expected<DeviceBuffer> allocate(size_t bytes) = 0;
  virtual void free(DeviceBuffer buffer) = 0;

  virtual llvm::Error copyToDevice(DeviceBuffer dst, const void *src,
                                   size_t bytes) = 0;
  virtual llvm::Error copyToHost(void *dst, DeviceBuffer src, size_t bytes) = 0;
  virtual llvm::Error copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                                   size_t bytes) = 0;
  /// Starts copying `bytes` of host staging memory `src` (from allocateHost)
  /// to `dst` alongside the work already queued, from any thread: the next
  /// step's batch is uploaded while this step runs. `src` must stay as it
  /// is, and no queued work may use `dst`, until the next call(), which
  /// waits for the copy before it starts. The default is copyToDevice (in
  /// order with the queued work).
  virtual llvm::Error prefetchToDevice(DeviceBuffer dst, const void *src,
                                       size_t bytes);
  /// Waits until every queued transfer and call has finished.
  virtual llvm::Error synchronize() = 0;

  /// The host address of `buffer`'s memory, or null when the host cannot
  /// address this device's memory (then only the copies above reach it).
  virtual void *hostAddress(DeviceBuffer buffer) const = 0;

  /// Host memory for staging the data that crosses to and from the device
  /// every step, on a device without host-visible memory; a device whose
  /// copies are faster from special memory (pinned) overrides these. The
  /// default is 64-byte aligned, zero-filled host memory.
  virtual llvm::Expected<void *> allocateHost(size_t bytes);
  virtual void freeHost(void *memory);

  /// Calls the compiled entry point `fn` through its packed interface with
  /// `args`, whose tensors are the device buffers `buffers` (in argument
  /// order; the same buffers mean the same call). The default calls it; the
  /// CUDA device captures it as a graph and replays that.
  virtual llvm::Error call(const dlc_function_info &fn, void **args,
                           llvm::ArrayRef<const void *> buffers);

protected:
  explicit Device(DeviceKind kind) : kind(kind) {}

private:
  DeviceKind kind;
};

/// The host as a device: allocations are 64-byte aligned host memory,
/// copies are memcpy and hostAddress is the buffer's address, so the
/// runtime's staging buffers and host views are the device memory itself.
class CPUDevice : public Device {
public:
  CPUDevice() : Device(DeviceKind::CPU) {}

  llvm::StringRef getName() const override { return "cpu"; }
  llvm::Expected<DeviceBuffer> allocate(size_t bytes) override;
  void free(DeviceBuffer buffer) override;
  llvm::Error copyToDevice(DeviceBuffer dst, const void *src,
                           size_t bytes) override;
  llvm::Error copyToHost(void *dst, DeviceBuffer src, size_t bytes) override;
  llvm::Error copyOnDevice(DeviceBuffer dst, DeviceBuffer src,
                           size_t bytes) override;
  llvm::Error synchronize() override { return llvm::Error::success(); }
  void *hostAddress(DeviceBuffer buffer) const override {
    return buffer.address;
  }
};

/// The device of a model table's `device` code. A CUDA device without a
/// driver or a GPU, or a code this runtime does not know, is an error that
/// says so.
llvm::Expected<std::unique_ptr<Device>> createDevice(int32_t code);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DEVICE_H
