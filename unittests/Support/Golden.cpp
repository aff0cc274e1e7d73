//===- Golden.cpp - Golden values from PyTorch for e2e tests --------------===//

#include "Golden.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dlc::test;

std::string dlc::test::goldenDir() { return DLC_GOLDEN_DIR; }

std::vector<float> dlc::test::detUniform(uint64_t stream, int64_t n, double low,
                                         double high) {
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = (stream << 32) + static_cast<uint64_t>(i);
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    double u = static_cast<double>(z >> 40) / static_cast<double>(1 << 24);
    values[i] = static_cast<float>(low + (high - low) * u);
  }
  return values;
}

double dlc::test::glorotLimit(const std::vector<int64_t> &shape) {
  int64_t receptive = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d)
    receptive *= shape[d];
  int64_t fanIn = shape[shape.size() - 2] * receptive;
  int64_t fanOut = shape.back() * receptive;
  return std::sqrt(6.0 / double(fanIn + fanOut));
}

llvm::Expected<std::map<std::string, GoldenTensor>>
dlc::test::readSafetensors(const std::string &path) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!file)
    return llvm::createStringError(file.getError(), "cannot read " + path);
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < 8)
    return llvm::createStringError("%s: too short", path.c_str());
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  if (8 + headerSize > bytes.size())
    return llvm::createStringError("%s: truncated header", path.c_str());
  llvm::StringRef data = bytes.drop_front(8 + headerSize);
  llvm::Expected<llvm::json::Value> header =
      llvm::json::parse(bytes.substr(8, headerSize));
  if (!header)
    return header.takeError();
  const llvm::json::Object *entries = header->getAsObject();
  if (!entries)
    return llvm::createStringError("%s: the header is not an object",
                                   path.c_str());

  std::map<std::string, GoldenTensor> tensors;
  for (const auto &[name, value] : *entries) {
    if (name == "__metadata__")
      continue;
    const llvm::json::Object *entry = value.getAsObject();
    const llvm::json::Array *shape = entry ? entry->getArray("shape") : nullptr;
    const llvm::json::Array *offsets =
        entry ? entry->getArray("data_offsets") : nullptr;
    std::optional<llvm::StringRef> dtype =
        entry ? entry->getString("dtype") : std::nullopt;
    if (!shape || !offsets || offsets->size() != 2 || !dtype ||
        (*dtype != "F32" && *dtype != "I32"))
      return llvm::createStringError("%s: bad entry '%s'", path.c_str(),
                                     name.str().c_str());
    GoldenTensor t;
    int64_t count = 1;
    for (const llvm::json::Value &d : *shape) {
      t.shape.push_back(d.getAsInteger().value_or(-1));
      count *= t.shape.back();
    }
    uint64_t begin = (*offsets)[0].getAsUINT64().value_or(~0ull);
    uint64_t end = (*offsets)[1].getAsUINT64().value_or(0);
    if (count < 0 || end < begin || end > data.size() ||
        end - begin != uint64_t(count) * 4)
      return llvm::createStringError("%s: bad data range for '%s'",
                                     path.c_str(), name.str().c_str());
    t.data.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      uint32_t word =
          llvm::support::endian::read32le(data.data() + begin + 4 * i);
      if (*dtype == "F32")
        std::memcpy(&t.data[i], &word, 4);
      else
        t.data[i] = static_cast<float>(static_cast<int32_t>(word));
    }
    tensors[name.str()] = std::move(t);
  }
  return tensors;
}

double dlc::test::relativeMaxError(const std::vector<float> &actual,
                                   const std::vector<float> &expected) {
  double diff = 0, scale = 0;
  size_t n = std::min(actual.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(double(actual[i]) - expected[i]));
    scale = std::max(scale, std::fabs(double(expected[i])));
  }
  if (actual.size() != expected.size() || std::isnan(diff))
    return INFINITY;
  return scale > 0 ? diff / scale : diff;
}
