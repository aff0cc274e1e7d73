//===- Random.cpp - Deterministic random numbers --------------------------===//
//
// SplitMix64 (Steele, Lea, Flood 2014) and the distributions built on it.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Random.h"

#include <cmath>
#include <numeric>

using namespace dlc::runtime;

static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

uint64_t dlc::runtime::mix64(uint64_t x) {
  x += kGolden;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t dlc::runtime::deriveKey(uint64_t key, uint64_t value) {
  return mix64(mix64(key) ^ (value * kGolden + 0x632BE59BD9B4E019ULL));
}

uint64_t dlc::runtime::deriveKey(uint64_t key, llvm::StringRef value) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : value) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return deriveKey(key, h);
}

uint64_t Rng::next() {
  uint64_t z = (state += kGolden);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Rng::uniform() { return (next() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t n) {
  // Reject the top partial copy of [0, n) so every value is equally likely.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = next();
  while (x >= limit);
  return x % n;
}

double Rng::normal() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  double u1;
  do
    u1 = uniform();
  while (u1 <= 0.0);
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * M_PI * u2;
  spare = r * std::sin(theta);
  hasSpare = true;
  return r * std::cos(theta);
}

double Rng::truncatedNormal() {
  double x;
  do
    x = normal();
  while (std::fabs(x) > 2.0);
  return x;
}

std::vector<uint32_t>
dlc::runtime::epochPermutation(uint64_t seed, uint64_t epoch, uint32_t n) {
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  Rng rng(deriveKey(deriveKey(seed, "shuffle"), epoch));
  for (uint32_t i = n; i > 1; --i)
    std::swap(perm[i - 1], perm[rng.below(i)]);
  return perm;
}
