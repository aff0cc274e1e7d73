//===- Tensor.h - Host tensors and memref descriptors -----------*- C++ -*-===//
//
// A Tensor is a host tensor: a 64-byte aligned, row-major buffer with a
// dtype and a static shape. It owns its memory, or borrows it from a
// host-visible device buffer (DeviceTensor.h) so that host code reads and
// writes device memory without a copy. A MemRefDescriptor is the MLIR
// calling-convention view of a buffer, built for the packed interface
// described in ModelABI.h.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_TENSOR_H
#define DLC_RUNTIME_TENSOR_H

#include "dlc/Runtime/ModelABI.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dlc::runtime {

/// Element types, with the numbering of ModelABI.h.
enum class DType : int32_t {
  F32 = DLC_DTYPE_F32,
  I32 = DLC_DTYPE_I32,
  I64 = DLC_DTYPE_I64
};

/// Size in bytes of one element.
size_t dtypeSize(DType dtype);
/// The safetensors spelling: "F32", "I32", "I64".
llvm::StringRef dtypeName(DType dtype);
/// Parses a safetensors dtype name; std::nullopt for unsupported ones.
std::optional<DType> parseDTypeName(llvm::StringRef name);
/// Checks an ABI dtype code.
std::optional<DType> dtypeFromABI(int32_t code);

/// Formats a shape as "[2, 3]" for messages.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// A 64-byte aligned row-major host buffer: owning and zero-initialized, or
/// borrowed.
class Tensor {
public:
  Tensor() = default;
  Tensor(DType dtype, llvm::ArrayRef<int64_t> shape);
  /// A tensor over `data`, which it does not own: `data` must hold the
  /// shape's bytes, be 64-byte aligned and outlive the tensor.
  static Tensor borrow(DType dtype, llvm::ArrayRef<int64_t> shape, void *data);

  /// False for a borrowed tensor.
  bool ownsData() const { return buffer.get_deleter().owned; }

  DType getDType() const { return dtype; }
  llvm::ArrayRef<int64_t> getShape() const { return shape; }
  int64_t getNumElements() const { return numElements; }
  size_t getSizeInBytes() const { return numElements * dtypeSize(dtype); }

  void *data() { return buffer.get(); }
  const void *data() const { return buffer.get(); }
  template <typename T> T *data() { return static_cast<T *>(data()); }
  template <typename T> const T *data() const {
    return static_cast<const T *>(data());
  }
  llvm::ArrayRef<uint8_t> bytes() const {
    return {static_cast<const uint8_t *>(data()), getSizeInBytes()};
  }

  /// Copies the contents of `other`, which must have the same size.
  void copyFrom(const Tensor &other);

private:
  struct FreeDeleter {
    FreeDeleter() : owned(true) {}
    explicit FreeDeleter(bool owned) : owned(owned) {}
    void operator()(void *p) const;
    bool owned;
  };
  void setShape(DType dtype, llvm::ArrayRef<int64_t> shape);
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  int64_t numElements = 0;
  std::unique_ptr<uint8_t, FreeDeleter> buffer;
};

/// An MLIR ranked memref descriptor {allocated, aligned, offset, sizes[R],
/// strides[R]} with row-major strides, plus the pointer to it that the
/// packed interface takes the address of.
class MemRefDescriptor {
public:
  explicit MemRefDescriptor(llvm::ArrayRef<int64_t> shape);
  MemRefDescriptor(const MemRefDescriptor &) = delete;
  MemRefDescriptor &operator=(const MemRefDescriptor &) = delete;

  /// Points the descriptor at `data` (allocated == aligned, offset 0).
  void bind(void *data);
  /// The value to store in the packed argument array: a `Descriptor **`.
  void *packedArgument() { return &self; }

private:
  llvm::SmallVector<int64_t, 11> words;
  void *self = nullptr;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_TENSOR_H
