//===- Philox.h - The reference of dlc's counter-based generator -*- C++
//-*-===//
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
// easy as 1, 2, 3", SC'11), exactly as Random123 defines it, and the way dlc
// derives a draw from (key, stream, index). Compiled code (the lowering of
// dropout and the augmentation layers) and the runtime must agree bit for bit
// with this header; the e2e tests check that they do.
//
// Header-only and free of MLIR/LLVM so that the runtime can include it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_SUPPORT_PHILOX_H
#define DLC_SUPPORT_PHILOX_H

#include <array>
#include <cstdint>

namespace dlc {

/// Four 32-bit words: a Philox counter or block of output.
using PhiloxBlock = std::array<uint32_t, 4>;

/// Philox4x32 with ten rounds on `counter` under `key`.
inline PhiloxBlock philox4x32(PhiloxBlock counter,
                              std::array<uint32_t, 2> key) {
  constexpr uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  constexpr uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += w0;
      key[1] += w1;
    }
    uint64_t p0 = uint64_t(m0) * counter[0];
    uint64_t p1 = uint64_t(m1) * counter[2];
    counter = {uint32_t(p1 >> 32) ^ counter[1] ^ key[0], uint32_t(p1),
               uint32_t(p0 >> 32) ^ counter[3] ^ key[1], uint32_t(p0)};
  }
  return counter;
}

/// dlc's draw for element (or image) `index` of the randomized op numbered
/// `stream` under `key`: the counter is (index low, index high, stream low,
/// stream high), the key is (key low, key high).
inline PhiloxBlock philoxDraw(uint64_t key, uint64_t stream, uint64_t index) {
  return philox4x32({uint32_t(index), uint32_t(index >> 32), uint32_t(stream),
                     uint32_t(stream >> 32)},
                    {uint32_t(key), uint32_t(key >> 32)});
}

/// A uniform float in [0, 1) from the top 24 bits of `word`.
inline float philoxUniform(uint32_t word) {
  return float(word >> 8) * (1.0f / 16777216.0f);
}

} // namespace dlc

#endif // DLC_SUPPORT_PHILOX_H
