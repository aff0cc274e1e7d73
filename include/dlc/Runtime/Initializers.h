//===- Initializers.h - Keras parameter initializers ------------*- C++ -*-===//
//
// Fills parameters by initializer name, following Keras's definitions
// (fan computation, truncated normals scaled by 1/0.8796...). The values
// for a tensor depend only on the run's seed and the tensor's name, so
// adding a layer does not change how the others start.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_INITIALIZERS_H
#define DLC_RUNTIME_INITIALIZERS_H

#include "dlc/Runtime/Tensor.h"

#include "llvm/Support/Error.h"

#include <map>
#include <string>

namespace dlc::runtime {

/// Keras's fan-in and fan-out of a weight of this shape: for rank >= 2 the
/// last two dimensions are (input, output) and the leading ones the
/// receptive field (HWCF conv kernels, [in, out] dense kernels); a vector
/// has fan_in = fan_out = its length.
struct Fans {
  double fanIn, fanOut;
};
Fans computeFans(llvm::ArrayRef<int64_t> shape);

/// The initializers `initializeTensor` knows, for messages.
llvm::ArrayRef<llvm::StringRef> knownInitializers();

/// Fills `tensor` with initializer `init` (glorot_uniform, glorot_normal,
/// he_normal, he_uniform, lecun_normal, lecun_uniform, random_normal,
/// random_uniform, truncated_normal, zeros, ones), drawing from
/// deriveKey(seed, name). Errors name the tensor.
/// The parameters of a configurable initializer (Keras's names: `value`,
/// `mean`, `stddev`, `minval`, `maxval`, `scale`, `mode`, `distribution`),
/// as the model's settings record them under `init_config`.
struct InitConfig {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;

  double number(llvm::StringRef key, double fallback) const {
    auto it = numbers.find(key.str());
    return it == numbers.end() ? fallback : it->second;
  }
  std::string string(llvm::StringRef key, llvm::StringRef fallback) const {
    auto it = strings.find(key.str());
    return it == strings.end() ? fallback.str() : it->second;
  }
};

/// Fills `tensor` by the initializer `init` from the stream (seed, name);
/// `config` overrides Keras's default parameters.
llvm::Error initializeTensor(Tensor &tensor, llvm::StringRef init,
                             uint64_t seed, llvm::StringRef name,
                             const InitConfig &config = {});

} // namespace dlc::runtime

#endif // DLC_RUNTIME_INITIALIZERS_H
