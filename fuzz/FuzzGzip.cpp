//===- FuzzGzip.cpp - libFuzzer target: gzip streams ----------------------===//
//
// Decompresses the input in one go (bounded) and piecewise in odd-sized
// reads; both must agree.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Support.h"

using namespace dlc::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  constexpr uint64_t kLimit = 1 << 22;
  auto whole = gunzip(llvm::ArrayRef<uint8_t>(data, size), "fuzz.gz", kLimit);
  ByteStream stream =
      ByteStream::fromBytes(std::vector<uint8_t>(data, data + size), "fuzz.gz");
  std::vector<uint8_t> pieces;
  uint8_t buffer[777];
  bool failed = false;
  while (pieces.size() <= kLimit) {
    size_t want = 1 + pieces.size() % sizeof(buffer);
    auto n = stream.read(llvm::MutableArrayRef<uint8_t>(buffer, want));
    if (!n) {
      llvm::consumeError(n.takeError());
      failed = true;
      break;
    }
    pieces.insert(pieces.end(), buffer, buffer + *n);
    if (*n < want)
      break;
  }
  if (whole && stream.isCompressed() && !failed && pieces.size() <= kLimit &&
      pieces != *whole)
    __builtin_trap();
  if (!whole)
    llvm::consumeError(whole.takeError());
  return 0;
}
