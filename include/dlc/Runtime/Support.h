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

/// Reads a whole file; when it starts with the gzip magic (1f 8b) it is
/// decompressed (concatenated members included). A truncated or corrupt
/// gzip stream is an error naming the file.
llvm::Expected<std::vector<uint8_t>> readFileMaybeGzip(llvm::StringRef path);

/// Decompresses a gzip stream held in memory; `name` is used in errors.
llvm::Expected<std::vector<uint8_t>> gunzip(llvm::ArrayRef<uint8_t> bytes,
                                            llvm::StringRef name);

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory is written, fsync'ed and renamed over `path`, then the
/// directory is fsync'ed so the rename itself is durable.
llvm::Error writeFileAtomically(llvm::StringRef path,
                                llvm::ArrayRef<uint8_t> contents);
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents);

/// Creates `dir` (with parents) and checks that a file can be created in it,
/// so an unusable --out fails before training starts.
llvm::Error prepareOutputDirectory(llvm::StringRef dir);

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
