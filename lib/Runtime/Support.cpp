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
#include <signal.h>
#include <unistd.h>

using namespace dlc::runtime;

struct ByteStream::ZState {
  z_stream z{};
};

ByteStream::ByteStream(std::vector<uint8_t> bytes, llvm::StringRef name)
    : bytes(std::move(bytes)), name(name.str()) {}

ByteStream::ByteStream(ByteStream &&other)
    : bytes(std::move(other.bytes)), name(std::move(other.name)),
      position(other.position), zs(other.zs), ended(other.ended) {
  // zlib's state points into `bytes`; a moved vector keeps its buffer.
  other.zs = nullptr;
}

ByteStream::~ByteStream() {
  if (zs) {
    inflateEnd(&zs->z);
    delete zs;
  }
}

ByteStream ByteStream::fromBytes(std::vector<uint8_t> bytes,
                                 llvm::StringRef name) {
  ByteStream stream(std::move(bytes), name);
  const std::vector<uint8_t> &b = stream.bytes;
  if (b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
    stream.zs = new ZState;
    // 16 + MAX_WBITS: expect a gzip header and trailer (with its CRC check).
    if (inflateInit2(&stream.zs->z, 16 + MAX_WBITS) != Z_OK) {
      delete stream.zs;
      stream.zs = nullptr;
      stream.ended = true;
    }
  }
  return stream;
}

llvm::Expected<ByteStream> ByteStream::openFile(llvm::StringRef path) {
  auto bytes = readFileBytes(path);
  if (!bytes)
    return bytes.takeError();
  return fromBytes(std::move(*bytes), path);
}

llvm::Expected<size_t> ByteStream::read(llvm::MutableArrayRef<uint8_t> out) {
  if (!zs) {
    size_t n = std::min(out.size(), bytes.size() - position);
    std::copy_n(bytes.data() + position, n, out.data());
    position += n;
    return n;
  }
  z_stream &z = zs->z;
  size_t done = 0;
  while (done < out.size() && !ended) {
    // zlib counts in uInt: feed and fill at most 1 GiB per call.
    size_t in = std::min<size_t>(bytes.size() - position, 1u << 30);
    z.next_in = bytes.data() + position;
    z.avail_in = static_cast<uInt>(in);
    z.next_out = out.data() + done;
    z.avail_out =
        static_cast<uInt>(std::min<size_t>(out.size() - done, 1u << 30));
    uInt availOut = z.avail_out;
    int status = inflate(&z, Z_NO_FLUSH);
    position += in - z.avail_in;
    done += availOut - z.avail_out;
    if (status == Z_STREAM_END) {
      // Concatenated gzip members are one file (as gzip -d treats them).
      if (position == bytes.size() || inflateReset(&z) != Z_OK)
        ended = true;
      continue;
    }
    if (status == Z_OK)
      continue;
    // No progress with room on both sides cannot happen; without input
    // left, the stream ended early.
    if (status == Z_BUF_ERROR)
      return llvm::createStringError("%s: truncated gzip data", name.c_str());
    return llvm::createStringError("%s: corrupt gzip data%s%s", name.c_str(),
                                   z.msg ? ": " : "", z.msg ? z.msg : "");
  }
  return done;
}

llvm::Expected<std::vector<uint8_t>> ByteStream::readAll(uint64_t maxSize,
                                                         llvm::StringRef what) {
  std::vector<uint8_t> out;
  if (!zs) {
    if (bytes.size() - position > maxSize)
      return llvm::createStringError("%s: %s is larger than %llu bytes",
                                     name.c_str(), what.str().c_str(),
                                     (unsigned long long)maxSize);
    out.assign(bytes.begin() + position, bytes.end());
    position = bytes.size();
    return out;
  }
  size_t chunk = 1 << 16;
  while (true) {
    size_t old = out.size();
    out.resize(old + chunk);
    auto n = read(llvm::MutableArrayRef<uint8_t>(out).drop_front(old));
    if (!n)
      return n.takeError();
    out.resize(old + *n);
    if (*n < chunk)
      return out;
    if (out.size() > maxSize)
      return llvm::createStringError(
          "%s: %s decompresses to more than %llu bytes", name.c_str(),
          what.str().c_str(), (unsigned long long)maxSize);
    chunk = std::min<size_t>(chunk * 2, 1 << 26);
  }
}

llvm::Expected<std::vector<uint8_t>>
dlc::runtime::gunzip(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name,
                     uint64_t maxSize) {
  ByteStream stream = ByteStream::fromBytes(
      std::vector<uint8_t>(bytes.begin(), bytes.end()), name);
  if (!stream.isCompressed())
    return llvm::createStringError("%s: not gzip data", name.str().c_str());
  return stream.readAll(maxSize, "the gzip data");
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
dlc::runtime::readFileMaybeGzip(llvm::StringRef path, uint64_t maxSize) {
  auto stream = ByteStream::openFile(path);
  if (!stream)
    return stream.takeError();
  return stream->readAll(maxSize, "the file");
}

void dlc::runtime::removeStaleTemporaries(llvm::StringRef dir) {
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef file = llvm::sys::path::filename(it->path());
    auto [stem, pidText] = file.rsplit(".tmp.");
    int pid;
    if (stem == file || pidText.getAsInteger(10, pid) || pid <= 0)
      continue;
    // kill(pid, 0) fails with ESRCH only when no such process exists; a
    // live process (or one of another user, EPERM) may still write it.
    if (::kill(pid, 0) != 0 && errno == ESRCH)
      ::unlink(it->path().c_str());
  }
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
  removeStaleTemporaries(dir);
  return llvm::Error::success();
}

llvm::Error
dlc::runtime::checkOutputFiles(llvm::StringRef dir,
                               llvm::ArrayRef<llvm::StringRef> files) {
  for (llvm::StringRef file : files) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(path, status))
      continue; // Absent: it will be created.
    if (status.type() != llvm::sys::fs::file_type::regular_file)
      return llvm::createStringError(
          "cannot write '%s': it exists and is not a regular file (%s); "
          "remove it or choose another --out",
          path.c_str(),
          status.type() == llvm::sys::fs::file_type::directory_file
              ? "a directory"
              : "a special file");
  }
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
