//===- TestUtil.h - Helpers shared by the runtime tests ---------*- C++ -*-===//
//
// Temporary directories, file writing, IDX and gzip encoders, and a matcher
// for llvm::Error messages.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_UNITTESTS_RUNTIME_TESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_TESTUTIL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime::testing {

/// A fresh directory, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return dir; }
  /// path()/name
  std::string file(llvm::StringRef name) const;

private:
  std::string dir;
};

void writeFile(llvm::StringRef path, llvm::ArrayRef<uint8_t> bytes);
std::vector<uint8_t> readFile(llvm::StringRef path);
std::vector<std::string> listDirectory(llvm::StringRef dir);

/// An unsigned-byte IDX file with these dimensions and data.
std::vector<uint8_t> makeIdx(llvm::ArrayRef<uint32_t> dims,
                             llvm::ArrayRef<uint8_t> data);
/// gzip-compresses bytes (as `gzip` would).
std::vector<uint8_t> gzip(llvm::ArrayRef<uint8_t> bytes);

/// Writes the four MNIST-layout files into `dir`: `train` and `test` images
/// of HxW with labels cycling through `classes`, optionally gzipped.
void writeIdxDataset(llvm::StringRef dir, int train, int test, int height,
                     int width, int classes, bool compressed);

/// The message of `error` ("" for success), consuming it.
std::string errorMessage(llvm::Error error);
template <typename T> std::string errorMessage(llvm::Expected<T> &value) {
  return value ? std::string() : errorMessage(value.takeError());
}

} // namespace dlc::runtime::testing

#endif // DLC_UNITTESTS_RUNTIME_TESTUTIL_H
