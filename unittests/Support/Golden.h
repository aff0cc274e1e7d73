//===- Golden.h - Golden values from PyTorch for e2e tests ------*- C++ -*-===//
//
// Reads what test/e2e/golden/make_golden.py wrote and regenerates the
// tensors it did not store: `detUniform` is the script's counter-based
// generator (splitmix64 of (stream << 32) + index), so weights and inputs
// are bit-identical on both sides without being committed. The safetensors
// reader is deliberately tiny (the runtime has a full one, but it links a
// static LLVMSupport that must not meet libLLVM.so in one binary).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_UNITTESTS_SUPPORT_GOLDEN_H
#define DLC_UNITTESTS_SUPPORT_GOLDEN_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc::test {

/// The directory of the golden files (test/e2e/golden in the source tree).
std::string goldenDir();

/// `n` values in [low, high): make_golden.py's det_uniform, computed in
/// double as numpy does and rounded to f32 once.
std::vector<float> detUniform(uint64_t stream, int64_t n, double low,
                              double high);

/// The Keras glorot_uniform limit of a conv HWCF or dense [in, out] shape.
double glorotLimit(const std::vector<int64_t> &shape);

/// One tensor of a safetensors file, converted to float (F32 or I32 data).
struct GoldenTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Reads a safetensors file: an 8-byte little-endian header length, a JSON
/// header of {name: {dtype, shape, data_offsets}}, then the raw data.
llvm::Expected<std::map<std::string, GoldenTensor>>
readSafetensors(const std::string &path);

/// max |actual - expected| / max |expected|: the relative error of a whole
/// tensor, which is what the golden comparisons bound.
double relativeMaxError(const std::vector<float> &actual,
                        const std::vector<float> &expected);

} // namespace dlc::test

#endif // DLC_UNITTESTS_SUPPORT_GOLDEN_H
