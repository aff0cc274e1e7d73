//===- Idx.cpp - IDX files (MNIST, Fashion-MNIST) -------------------------===//
//
// Format reference: http://yann.lecun.com/exdb/mnist/ ("THE IDX FILE
// FORMAT"). Every size is checked before it is used: a corrupt header must
// produce an error, not a huge allocation or an out-of-bounds read.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Idx.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace dlc::runtime;

static uint64_t header(unsigned rank) { return 4 + 4 * uint64_t(rank); }

static llvm::Error idxError(llvm::StringRef name, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + what);
}

static const char *kindName(IdxKind kind) {
  switch (kind) {
  case IdxKind::Images:
    return "an image file (magic 0x00000803 [N, H, W] or 0x00000804 "
           "[N, H, W, C])";
  case IdxKind::Labels:
    return "a label file (magic 0x00000801 [N])";
  case IdxKind::Any:
    break;
  }
  return "an IDX file";
}

llvm::Expected<IdxArray> dlc::runtime::readIdx(ByteStream &stream,
                                               IdxKind kind) {
  llvm::StringRef name = stream.getName();
  uint8_t magic[4];
  auto got = stream.read(magic);
  if (!got)
    return got.takeError();
  if (*got < 4)
    return idxError(name, "truncated IDX file (" + llvm::Twine(*got) +
                              " bytes, not even a header)");
  std::string magicText = llvm::formatv("0x{0:x-2}{1:x-2}{2:x-2}{3:x-2}",
                                        magic[0], magic[1], magic[2], magic[3])
                              .str();
  if (magic[0] != 0 || magic[1] != 0)
    return idxError(name, "bad magic number " + magicText +
                              ": not an IDX file (expected " + kindName(kind) +
                              ")");
  uint8_t type = magic[2], rank = magic[3];
  if (type != 0x08)
    return idxError(name,
                    llvm::formatv("unsupported IDX element type 0x{0:x-2} "
                                  "(only unsigned bytes, 0x08, are read)",
                                  type)
                        .str());
  bool rankOk = kind == IdxKind::Images   ? rank == 3 || rank == 4
                : kind == IdxKind::Labels ? rank == 1
                                          : rank >= 1 && rank <= 4;
  if (!rankOk)
    return idxError(name, "magic number " + magicText + " announces rank " +
                              llvm::Twine(unsigned(rank)) +
                              ", but this must be " + kindName(kind));
  uint8_t dims[16];
  got = stream.read(llvm::MutableArrayRef<uint8_t>(dims, 4 * rank));
  if (!got)
    return got.takeError();
  if (*got < 4u * rank)
    return idxError(name, "truncated IDX header");
  IdxArray array;
  uint64_t count = 1;
  for (unsigned i = 0; i < rank; ++i) {
    const uint8_t *p = dims + 4 * i;
    uint32_t d = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 |
                 uint32_t(p[2]) << 8 | uint32_t(p[3]);
    array.dims.push_back(d);
    count *= d;
    if (count > (uint64_t(1) << 40))
      return idxError(name, "IDX dimensions are implausibly large");
  }
  // A raw file's size is known: check it before allocating.
  if (!stream.isCompressed()) {
    uint64_t available = stream.remaining();
    if (available < count)
      return idxError(name, llvm::formatv("truncated IDX file: the header "
                                          "announces {0} bytes of data but "
                                          "only {1} are present",
                                          count, available)
                                .str());
  }
  // Decompress exactly what the header announces, then one byte more to
  // see whether the stream is longer: never more than that. The buffer
  // grows with the data that actually arrives, so a small stream whose
  // header announces gigabytes allocates no more than it holds (found by
  // fuzz-idx).
  uint64_t received = 0;
  constexpr uint64_t kChunk = uint64_t(64) << 20;
  while (received < count) {
    uint64_t want = std::min(count - received, kChunk);
    array.data.resize(received + want);
    auto n = stream.read(
        llvm::MutableArrayRef<uint8_t>(array.data).slice(received, want));
    if (!n)
      return n.takeError();
    received += *n;
    if (*n < want)
      break;
  }
  if (received < count)
    return idxError(name, llvm::formatv("truncated IDX file: the header "
                                        "announces {0} bytes of data but only "
                                        "{1} are present",
                                        count, received)
                              .str());
  uint8_t extra;
  auto more = stream.read(llvm::MutableArrayRef<uint8_t>(&extra, 1));
  if (!more)
    return more.takeError();
  if (*more != 0) {
    if (stream.isCompressed())
      return idxError(name, llvm::formatv("the gzip data is longer than the "
                                          "{0} bytes its IDX header announces "
                                          "(corrupt file?)",
                                          header(rank) + count)
                                .str());
    return idxError(name, llvm::formatv("{0} unexpected bytes after the IDX "
                                        "data (corrupt file?)",
                                        stream.remaining() + 1)
                              .str());
  }
  return array;
}

llvm::Expected<IdxArray> dlc::runtime::parseIdx(llvm::ArrayRef<uint8_t> bytes,
                                                llvm::StringRef name,
                                                IdxKind kind) {
  ByteStream stream = ByteStream::fromBytes(
      std::vector<uint8_t>(bytes.begin(), bytes.end()), name);
  return readIdx(stream, kind);
}

static llvm::Expected<IdxArray> readIdxFile(llvm::StringRef path,
                                            IdxKind kind) {
  auto stream = ByteStream::openFile(path);
  if (!stream)
    return stream.takeError();
  return readIdx(*stream, kind);
}

static llvm::Error setImages(Dataset &data, IdxArray &images,
                             llvm::StringRef path) {
  if (images.dims.size() != 3 && images.dims.size() != 4)
    return idxError(path, "an image file has rank 3 [N, H, W] or 4 "
                          "[N, H, W, C], not " +
                              llvm::Twine(images.dims.size()));
  data.source = path.str();
  data.height = images.dims[1];
  data.width = images.dims[2];
  data.channels = images.dims.size() == 4 ? images.dims[3] : 1;
  data.pixels = std::move(images.data);
  return llvm::Error::success();
}

llvm::Expected<Dataset> dlc::runtime::readIdxImages(llvm::StringRef path) {
  auto images = readIdxFile(path, IdxKind::Images);
  if (!images)
    return images.takeError();
  Dataset data;
  if (llvm::Error err = setImages(data, *images, path))
    return std::move(err);
  data.labels.assign(images->dims[0], 0);
  return data;
}

llvm::Expected<Dataset>
dlc::runtime::readIdxDataset(llvm::StringRef imagesPath,
                             llvm::StringRef labelsPath) {
  auto images = readIdxFile(imagesPath, IdxKind::Images);
  if (!images)
    return images.takeError();
  auto labels = readIdxFile(labelsPath, IdxKind::Labels);
  if (!labels)
    return labels.takeError();
  Dataset data;
  if (llvm::Error err = setImages(data, *images, imagesPath))
    return std::move(err);
  if (labels->dims.size() != 1)
    return idxError(labelsPath, "a label file has rank 1, not " +
                                    llvm::Twine(labels->dims.size()));
  if (labels->dims[0] != images->dims[0])
    return idxError(labelsPath,
                    llvm::formatv("{0} labels for {1} images in '{2}'",
                                  labels->dims[0], images->dims[0], imagesPath)
                        .str());
  data.labels.assign(labels->data.begin(), labels->data.end());
  data.labelSource = labelsPath.str();
  return data;
}

/// Finds `<prefix>-<kind>-idx<r>-ubyte` in `dir`, raw or .gz, also with the
/// "<kind>.idx" spelling some mirrors use. Empty if none exists.
static std::string findIdxFile(llvm::StringRef dir, llvm::StringRef prefix,
                               llvm::StringRef kind, llvm::StringRef rank) {
  for (const char *sep : {"-", "."})
    for (const char *ext : {"", ".gz"}) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, prefix + "-" + kind + sep + "idx" + rank +
                                        "-ubyte" + ext);
      if (llvm::sys::fs::is_regular_file(path))
        return path.str().str();
    }
  return "";
}

bool dlc::runtime::isIdxDirectory(llvm::StringRef dir) {
  return !findIdxFile(dir, "train", "images", "3").empty();
}

llvm::Expected<DataSplits> dlc::runtime::readIdxDirectory(llvm::StringRef dir) {
  std::string paths[4] = {findIdxFile(dir, "train", "images", "3"),
                          findIdxFile(dir, "train", "labels", "1"),
                          findIdxFile(dir, "t10k", "images", "3"),
                          findIdxFile(dir, "t10k", "labels", "1")};
  const char *expected[4] = {
      "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
      "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (int i = 0; i < 4; ++i)
    if (paths[i].empty())
      return llvm::createStringError(
          "missing IDX file in '%s': expected %s or %s.gz", dir.str().c_str(),
          expected[i], expected[i]);
  DataSplits splits;
  auto train = readIdxDataset(paths[0], paths[1]);
  if (!train)
    return train.takeError();
  auto test = readIdxDataset(paths[2], paths[3]);
  if (!test)
    return test.takeError();
  splits.train = std::move(*train);
  splits.test = std::move(*test);
  splits.description = ("IDX files in " + dir).str();
  return splits;
}
