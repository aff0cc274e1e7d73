//===- TestUtil.cpp - Helpers shared by the runtime tests -----------------===//

#include "TestUtil.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

using namespace dlc::runtime::testing;

TempDir::TempDir() {
  llvm::SmallString<256> path;
  std::error_code ec =
      llvm::sys::fs::createUniqueDirectory("dlc-runtime-test", path);
  EXPECT_FALSE(ec) << ec.message();
  dir = path.str().str();
}

TempDir::~TempDir() { llvm::sys::fs::remove_directories(dir); }

std::string TempDir::file(llvm::StringRef name) const {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return path.str().str();
}

void dlc::runtime::testing::writeFile(llvm::StringRef path,
                                      llvm::ArrayRef<uint8_t> bytes) {
  std::ofstream out(path.str(), std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  ASSERT_TRUE(out.good()) << path.str();
}

std::vector<uint8_t> dlc::runtime::testing::readFile(llvm::StringRef path) {
  std::ifstream in(path.str(), std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string>
dlc::runtime::testing::listDirectory(llvm::StringRef dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    names.push_back(llvm::sys::path::filename(it->path()).str());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<uint8_t>
dlc::runtime::testing::makeIdx(llvm::ArrayRef<uint32_t> dims,
                               llvm::ArrayRef<uint8_t> data) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(uint8_t(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t>
dlc::runtime::testing::gzip(llvm::ArrayRef<uint8_t> bytes) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS,
                         8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::vector<uint8_t> out(deflateBound(&zs, bytes.size()) + 32);
  zs.next_in = const_cast<Bytef *>(bytes.data());
  zs.avail_in = bytes.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void dlc::runtime::testing::writeIdxDataset(llvm::StringRef dir, int train,
                                            int test, int height, int width,
                                            int classes, bool compressed) {
  auto write = [&](const char *name, int n) {
    std::vector<uint8_t> pixels(size_t(n) * height * width), labels(n);
    for (int i = 0; i < n; ++i) {
      labels[i] = uint8_t(i % classes);
      for (int p = 0; p < height * width; ++p)
        pixels[size_t(i) * height * width + p] =
            uint8_t((i * 7 + p * 13) % 256);
    }
    std::string prefix = (dir + "/" + name).str();
    std::string ext = compressed ? ".gz" : "";
    auto maybe = [&](std::vector<uint8_t> b) {
      return compressed ? gzip(b) : b;
    };
    writeFile(prefix + "-images-idx3-ubyte" + ext,
              maybe(makeIdx({uint32_t(n), uint32_t(height), uint32_t(width)},
                            pixels)));
    writeFile(prefix + "-labels-idx1-ubyte" + ext,
              maybe(makeIdx({uint32_t(n)}, labels)));
  };
  write("train", train);
  write("t10k", test);
}

std::string dlc::runtime::testing::errorMessage(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}
