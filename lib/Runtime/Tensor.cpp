//===- Tensor.cpp - Host tensors and memref descriptors -------------------===//
//
// Implements the owning buffers the runtime hands to compiled code.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Tensor.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

using namespace dlc::runtime;

size_t dlc::runtime::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I64:
    return 8;
  }
  return 0;
}

llvm::StringRef dlc::runtime::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::I32:
    return "I32";
  case DType::I64:
    return "I64";
  }
  return "?";
}

std::optional<DType> dlc::runtime::parseDTypeName(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("F32", DType::F32)
      .Case("I32", DType::I32)
      .Case("I64", DType::I64)
      .Default(std::nullopt);
}

std::optional<DType> dlc::runtime::dtypeFromABI(int32_t code) {
  if (code == DLC_DTYPE_F32 || code == DLC_DTYPE_I32 || code == DLC_DTYPE_I64)
    return static_cast<DType>(code);
  return std::nullopt;
}

std::string dlc::runtime::formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << '[';
  llvm::interleaveComma(shape, os);
  os << ']';
  return s;
}

void Tensor::FreeDeleter::operator()(void *p) const {
  if (owned)
    std::free(p);
}

void Tensor::setShape(DType newDType, llvm::ArrayRef<int64_t> newShape) {
  dtype = newDType;
  shape.assign(newShape.begin(), newShape.end());
  numElements = 1;
  for (int64_t d : newShape)
    numElements *= d;
}

Tensor Tensor::borrow(DType dtype, llvm::ArrayRef<int64_t> shape, void *data) {
  assert(reinterpret_cast<uintptr_t>(data) % 64 == 0 &&
         "borrowed memory must be 64-byte aligned");
  Tensor t;
  t.setShape(dtype, shape);
  t.buffer = std::unique_ptr<uint8_t, FreeDeleter>(
      static_cast<uint8_t *>(data), FreeDeleter(/*owned=*/false));
  return t;
}

Tensor::Tensor(DType dtype, llvm::ArrayRef<int64_t> shape) {
  setShape(dtype, shape);
  // Vector loads in compiled code like 64-byte alignment; aligned_alloc
  // wants a size that is a multiple of the alignment (and non-zero).
  size_t bytes = getSizeInBytes();
  size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void *p = std::aligned_alloc(64, rounded);
  if (!p) {
    llvm::errs() << "error: out of memory allocating " << rounded << " bytes\n";
    std::abort();
  }
  std::memset(p, 0, rounded);
  buffer.reset(static_cast<uint8_t *>(p));
}

void Tensor::copyFrom(const Tensor &other) {
  assert(other.getSizeInBytes() == getSizeInBytes() && "size mismatch");
  std::memcpy(data(), other.data(), getSizeInBytes());
}

MemRefDescriptor::MemRefDescriptor(llvm::ArrayRef<int64_t> shape) {
  static_assert(sizeof(void *) == sizeof(int64_t),
                "the descriptor layout assumes 64-bit pointers");
  size_t rank = shape.size();
  words.assign(3 + 2 * rank, 0);
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    words[3 + i] = shape[i];
    words[3 + rank + i] = stride;
    stride *= shape[i];
  }
  self = words.data();
}

void MemRefDescriptor::bind(void *data) {
  int64_t address = reinterpret_cast<intptr_t>(data);
  words[0] = address;
  words[1] = address;
  words[2] = 0;
}
