//===- Support.h - Files: gzip-aware reads, atomic writes -------*- C++ -*-===//
//
// File helpers shared by the dataset readers, checkpoints and monitors.
// Writes that a user relies on (checkpoints, metrics, the report) go through
// writeFileAtomically so a crash or Ctrl-C never leaves a half-written file
// in place of a good one.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_SUPPORT_H
#define DLC_RUNTIME_SUPPORT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// Reads a whole file as it is.
llvm::Expected<std::vector<uint8_t>> readFileBytes(llvm::StringRef path);

/// The bytes of a file, or of the gzip stream it holds (concatenated
/// members included), read front to back in pieces of the caller's size:
/// a reader that knows from a header how much data to expect never
/// decompresses more than that (a small file cannot expand into gigabytes
/// of memory). Errors name the file.
class ByteStream {
public:
  /// Opens `path`; it is decompressed when it starts with 1f 8b.
  static llvm::Expected<ByteStream> openFile(llvm::StringRef path);
  /// A stream over bytes in memory (decompressed when they start with
  /// 1f 8b); `name` is used in errors.
  static ByteStream fromBytes(std::vector<uint8_t> bytes, llvm::StringRef name);

  ByteStream(ByteStream &&other);
  ByteStream &operator=(ByteStream &&other) = delete;
  ~ByteStream();

  /// Fills `out`; returns how many bytes were written, fewer than
  /// out.size() only at the end of the data. A corrupt or truncated gzip
  /// stream is an error.
  llvm::Expected<size_t> read(llvm::MutableArrayRef<uint8_t> out);
  /// Reads everything that is left, failing once more than `maxSize` bytes
  /// came out ("what" names the contents in that error).
  llvm::Expected<std::vector<uint8_t>> readAll(uint64_t maxSize,
                                               llvm::StringRef what);

  bool isCompressed() const { return zs != nullptr; }
  /// Raw streams: the bytes not read yet.
  uint64_t remaining() const { return bytes.size() - position; }
  llvm::StringRef getName() const { return name; }

private:
  ByteStream(std::vector<uint8_t> bytes, llvm::StringRef name);

  std::vector<uint8_t> bytes;
  std::string name;
  /// Raw files: the next byte to return. gzip: the zlib state (z_stream).
  size_t position = 0;
  struct ZState;
  ZState *zs = nullptr;
  bool ended = false;
};

/// Reads a whole file; when it starts with the gzip magic (1f 8b) it is
/// decompressed (concatenated members included). A truncated or corrupt
/// gzip stream, or more than `maxSize` bytes, is an error naming the file.
llvm::Expected<std::vector<uint8_t>>
readFileMaybeGzip(llvm::StringRef path, uint64_t maxSize = uint64_t(1) << 32);

/// Decompresses a gzip stream held in memory; `name` is used in errors.
llvm::Expected<std::vector<uint8_t>>
gunzip(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name,
       uint64_t maxSize = uint64_t(1) << 32);

/// Removes `<name>.tmp.<pid>` files in `dir` that writeFileAtomically left
/// behind in a process that was killed (no process `pid` exists any more).
void removeStaleTemporaries(llvm::StringRef dir);

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory is written, fsync'ed and renamed over `path`, then the
/// directory is fsync'ed so the rename itself is durable.
llvm::Error writeFileAtomically(llvm::StringRef path,
                                llvm::ArrayRef<uint8_t> contents);
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents);

/// Creates `dir` (with parents) and checks that a file can be created in it,
/// so an unusable --out fails before training starts.
llvm::Error prepareOutputDirectory(llvm::StringRef dir);

/// Fails when one of `files` inside `dir` exists but is not a regular
/// file (a directory there would make the atomic rename fail much later).
llvm::Error checkOutputFiles(llvm::StringRef dir,
                             llvm::ArrayRef<llvm::StringRef> files);

/// Formats a number for people: "0.001", "24", "1e-05" (printf's %g with
/// `digits` significant digits).
std::string formatNumber(double value, int digits = 6);

/// The shortest text that reads back (strtod) as exactly `value`.
std::string formatExact(double value);

/// True if `path` names an existing directory.
bool isDirectory(llvm::StringRef path);
/// True if `path` names an existing file or directory.
bool pathExists(llvm::StringRef path);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_SUPPORT_H
