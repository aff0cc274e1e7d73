//===- Random.h - Deterministic random numbers ------------------*- C++ -*-===//
//
// Every random choice the runtime makes (initial parameters, shuffling,
// synthetic data) comes from a small generator keyed by values the user
// controls (the seed, an epoch, a tensor name), never from global state, so
// runs are reproducible across machines, thread counts and resumes. The
// generator is SplitMix64: tiny, fast, statistically sound for this use,
// and fully specified here (unlike std::normal_distribution, whose output
// differs between standard libraries).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_RANDOM_H
#define DLC_RUNTIME_RANDOM_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <vector>

namespace dlc::runtime {

/// One SplitMix64 output for `x` (a strong 64-bit mixing function).
uint64_t mix64(uint64_t x);
/// Derives a key from a parent key and a 64-bit value.
uint64_t deriveKey(uint64_t key, uint64_t value);
/// Derives a key from a parent key and a string (FNV-1a, then mixed).
uint64_t deriveKey(uint64_t key, llvm::StringRef value);

/// A SplitMix64 stream.
class Rng {
public:
  explicit Rng(uint64_t key) : state(key) {}

  uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [0, n), unbiased (rejection sampling); n > 0.
  uint64_t below(uint64_t n);
  /// Standard normal (Box-Muller; both values of a pair are used).
  double normal();
  /// Standard normal truncated to [-2, 2] by redrawing, as Keras's
  /// TruncatedNormal does.
  double truncatedNormal();

private:
  uint64_t state;
  double spare = 0;
  bool hasSpare = false;
};

/// The permutation of [0, n) used for epoch `epoch` of a run seeded with
/// `seed`: a pure function of its arguments (Fisher-Yates).
std::vector<uint32_t> epochPermutation(uint64_t seed, uint64_t epoch,
                                       uint32_t n);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_RANDOM_H
