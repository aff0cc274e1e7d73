//===- Support.cpp - Files: gzip-aware reads, atomic writes ---------------===//
//
// POSIX I/O where durability matters (fsync of the file and its directory),
// LLVM's MemoryBuffer for reading, zlib for gzip.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Support.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace dlc::runtime;

llvm::Expected<std::vector<uint8_t>>
dlc::runtime::gunzip(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name) {
  std::vector<uint8_t> out;
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header and trailer (with its CRC check).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return llvm::createStringError("%s: cannot initialize zlib",
                                   name.str().c_str());
  zs.next_in = const_cast<Bytef *>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  out.resize(std::max<size_t>(bytes.size() * 4, 1 << 16));
  int status = Z_OK;
  while (true) {
    if (zs.total_out == out.size())
      out.resize(out.size() * 2);
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    status = inflate(&zs, Z_NO_FLUSH);
    if (status == Z_STREAM_END) {
      // Concatenated gzip members are one file (as gzip -d treats them).
      if (zs.avail_in == 0)
        break;
      uLong produced = zs.total_out;
      if (inflateReset(&zs) != Z_OK)
        break;
      zs.total_out = produced;
      continue;
    }
    if (status == Z_OK)
      continue;
    if (status == Z_BUF_ERROR && zs.avail_out != 0)
      break; // No progress possible: the input ended early.
    if (status != Z_BUF_ERROR)
      break;
  }
  size_t produced = zs.total_out;
  std::string message = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (status != Z_STREAM_END)
    return llvm::createStringError(
        "%s: %s gzip data%s%s", name.str().c_str(),
        status == Z_BUF_ERROR ? "truncated" : "corrupt",
        message.empty() ? "" : ": ", message.c_str());
  out.resize(produced);
  return out;
}

llvm::Expected<std::vector<uint8_t>>
dlc::runtime::readFileBytes(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError("cannot read '%s': %s", path.str().c_str(),
                                   buffer.getError().message().c_str());
  const uint8_t *start =
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart());
  return std::vector<uint8_t>(start, start + (*buffer)->getBufferSize());
}

llvm::Expected<std::vector<uint8_t>>
dlc::runtime::readFileMaybeGzip(llvm::StringRef path) {
  auto bytes = readFileBytes(path);
  if (!bytes)
    return bytes.takeError();
  if (bytes->size() >= 2 && (*bytes)[0] == 0x1f && (*bytes)[1] == 0x8b)
    return gunzip(*bytes, path);
  return bytes;
}

static llvm::Error errnoError(const char *what, llvm::StringRef path) {
  return llvm::createStringError("cannot %s '%s': %s", what, path.str().c_str(),
                                 std::strerror(errno));
}

llvm::Error
dlc::runtime::writeFileAtomically(llvm::StringRef path,
                                  llvm::ArrayRef<uint8_t> contents) {
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  // Same directory as the target: rename is atomic only within a file system.
  std::string tmp =
      (path + ".tmp." + llvm::Twine(static_cast<int>(getpid()))).str();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return errnoError("create", tmp);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      llvm::Error err = errnoError("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    llvm::Error err = errnoError("flush", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), path.str().c_str()) != 0) {
    llvm::Error err = errnoError("rename a temporary file to", path);
    ::unlink(tmp.c_str());
    return err;
  }
  int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd >= 0) {
    ::fsync(dirfd);
    ::close(dirfd);
  }
  return llvm::Error::success();
}

llvm::Error dlc::runtime::writeFileAtomically(llvm::StringRef path,
                                              llvm::StringRef contents) {
  return writeFileAtomically(
      path,
      llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(contents.data()), contents.size()));
}

llvm::Error dlc::runtime::prepareOutputDirectory(llvm::StringRef dir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError("cannot create output directory '%s': %s",
                                   dir.str().c_str(), ec.message().c_str());
  // Permissions alone do not tell (root, read-only mounts): try a file.
  llvm::SmallString<256> probe(dir);
  llvm::sys::path::append(probe, ".dlc-write-test");
  int fd =
      ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return llvm::createStringError("cannot write to output directory '%s': %s",
                                   dir.str().c_str(), std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return llvm::Error::success();
}

std::string dlc::runtime::formatNumber(double value, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

std::string dlc::runtime::formatExact(double value) {
  char buffer[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

bool dlc::runtime::isDirectory(llvm::StringRef path) {
  return llvm::sys::fs::is_directory(path);
}

bool dlc::runtime::pathExists(llvm::StringRef path) {
  return llvm::sys::fs::exists(path);
}
