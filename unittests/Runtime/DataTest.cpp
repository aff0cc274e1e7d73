//===- DataTest.cpp - IDX, CIFAR-10, synthetic data and batching ----------===//
//
// Every corruption a user can meet in a dataset file has a case here, with
// the words of the message that tell them what is wrong.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dlc/Runtime/Data/Batcher.h"
#include "dlc/Runtime/Data/Cifar.h"
#include "dlc/Runtime/Data/Idx.h"
#include "dlc/Runtime/Data/Synthetic.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/FileSystem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

//===----------------------------------------------------------------------===//
// IDX
//===----------------------------------------------------------------------===//

TEST(IdxTest, ParsesImagesAndLabels) {
  std::vector<uint8_t> pixels = {1, 2, 3, 4, 5, 6, 7, 8};
  auto images = parseIdx(makeIdx({2, 2, 2}, pixels), "images");
  ASSERT_TRUE(bool(images)) << errorMessage(images);
  EXPECT_EQ(images->dims, (llvm::SmallVector<int64_t, 4>{2, 2, 2}));
  EXPECT_EQ(images->data, pixels);
}

TEST(IdxTest, RejectsBadMagic) {
  std::vector<uint8_t> bytes = makeIdx({1}, {0});
  bytes[0] = 0x50; // e.g. a PNG or text file
  auto parsed = parseIdx(bytes, "f");
  EXPECT_THAT(errorMessage(parsed), HasSubstr("bad magic number"));
}

TEST(IdxTest, RejectsUnsupportedType) {
  std::vector<uint8_t> bytes = makeIdx({1}, {0, 0, 0, 0});
  bytes[2] = 0x0D; // float
  auto parsed = parseIdx(bytes, "f");
  EXPECT_THAT(errorMessage(parsed), HasSubstr("unsupported IDX element type"));
}

TEST(IdxTest, RejectsTruncatedData) {
  std::vector<uint8_t> bytes = makeIdx({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  bytes.resize(bytes.size() - 3);
  auto parsed = parseIdx(bytes, "f");
  EXPECT_THAT(errorMessage(parsed), HasSubstr("truncated IDX file"));
  EXPECT_THAT(errorMessage(parsed = parseIdx({0, 0, 8}, "f")),
              HasSubstr("truncated"));
  EXPECT_THAT(errorMessage(parsed = parseIdx({0, 0, 8, 3, 0, 0}, "f")),
              HasSubstr("truncated IDX header"));
}

TEST(IdxTest, RejectsTrailingBytes) {
  std::vector<uint8_t> bytes = makeIdx({2}, {1, 2});
  bytes.push_back(9);
  auto parsed = parseIdx(bytes, "f");
  EXPECT_THAT(errorMessage(parsed), HasSubstr("unexpected bytes"));
}

TEST(IdxTest, ReadsGzipAndRawDirectories) {
  for (bool compressed : {false, true}) {
    TempDir dir;
    writeIdxDataset(dir.path(), 10, 4, 3, 2, 5, compressed);
    auto splits = readIdxDirectory(dir.path());
    ASSERT_TRUE(bool(splits)) << errorMessage(splits);
    EXPECT_EQ(splits->train.size(), 10);
    EXPECT_EQ(splits->test.size(), 4);
    EXPECT_EQ(splits->train.height, 3);
    EXPECT_EQ(splits->train.width, 2);
    EXPECT_EQ(splits->train.channels, 1);
    EXPECT_EQ(splits->train.labels[7], 7 % 5);
    EXPECT_EQ(splits->train.image(1)[1], (1 * 7 + 1 * 13) % 256);
  }
}

TEST(IdxTest, RejectsTruncatedGzip) {
  TempDir dir;
  writeIdxDataset(dir.path(), 10, 4, 3, 2, 5, /*compressed=*/true);
  std::string path = dir.file("train-images-idx3-ubyte.gz");
  std::vector<uint8_t> bytes = readFile(path);
  bytes.resize(bytes.size() / 2);
  writeFile(path, bytes);
  auto splits = readIdxDirectory(dir.path());
  EXPECT_THAT(errorMessage(splits), HasSubstr("truncated gzip data"));
}

TEST(IdxTest, RejectsCorruptGzip) {
  TempDir dir;
  writeIdxDataset(dir.path(), 10, 4, 3, 2, 5, /*compressed=*/true);
  std::string path = dir.file("t10k-labels-idx1-ubyte.gz");
  std::vector<uint8_t> bytes = readFile(path);
  bytes[bytes.size() - 6] ^= 0xFF; // The trailer's CRC-32.
  writeFile(path, bytes);
  auto splits = readIdxDirectory(dir.path());
  EXPECT_THAT(errorMessage(splits), HasSubstr("corrupt gzip data"));
}

TEST(IdxTest, RejectsMissingFiles) {
  TempDir dir;
  writeIdxDataset(dir.path(), 10, 4, 3, 2, 5, false);
  llvm::sys::fs::remove(dir.file("t10k-labels-idx1-ubyte"));
  auto splits = readIdxDirectory(dir.path());
  EXPECT_THAT(errorMessage(splits),
              HasSubstr("missing IDX file in '" + dir.path() +
                        "': expected t10k-labels-idx1-ubyte"));
}

TEST(IdxTest, RejectsLabelCountMismatch) {
  TempDir dir;
  writeIdxDataset(dir.path(), 10, 4, 3, 2, 5, false);
  writeFile(dir.file("train-labels-idx1-ubyte"),
            makeIdx({9}, std::vector<uint8_t>(9)));
  auto splits = readIdxDirectory(dir.path());
  EXPECT_THAT(errorMessage(splits), HasSubstr("9 labels for 10 images"));
}

TEST(IdxTest, RejectsImageFileOfWrongRank) {
  TempDir dir;
  writeFile(dir.file("x"), makeIdx({4}, {1, 2, 3, 4}));
  auto images = readIdxImages(dir.file("x"));
  EXPECT_THAT(errorMessage(images),
              HasSubstr("announces rank 1, but this must be an image file"));
}

//===----------------------------------------------------------------------===//
// Checking data against the model, --data resolution
//===----------------------------------------------------------------------===//

TEST(DatasetTest, LabelsOutOfRange) {
  TempDir dir;
  writeIdxDataset(dir.path(), 10, 4, 3, 2, /*classes=*/5, false);
  auto splits = loadDataset(dir.path(), {3, 2, 1, /*numClasses=*/4, 0});
  EXPECT_THAT(errorMessage(splits),
              HasSubstr("has label 4 at index 4 but the model has 4 classes"));
}

TEST(DatasetTest, ShapeMismatch) {
  TempDir dir;
  writeIdxDataset(dir.path(), 10, 4, 3, 2, 5, false);
  auto splits = loadDataset(dir.path(), {28, 28, 1, 10, 0});
  EXPECT_THAT(errorMessage(splits),
              HasSubstr("the model takes 28x28x1 images (HxWxC) but"));
  EXPECT_THAT(errorMessage(splits = loadDataset(dir.path(), {3, 2, 1, 10, 0})),
              ::testing::IsEmpty());
}

TEST(DatasetTest, UnknownSpecAndMissingNamedDataset) {
  auto splits = loadDataset("/nonexistent/dir", {});
  EXPECT_THAT(errorMessage(splits), HasSubstr("no dataset or directory"));
  TempDir empty;
  setenv("DLC_DATASETS", empty.path().c_str(), 1);
  // cifar10 is not installed on the test machines.
  EXPECT_THAT(errorMessage(splits = loadDataset("cifar10", {})),
              HasSubstr("dataset 'cifar10' not found"));
  EXPECT_THAT(errorMessage(splits = loadDataset(empty.path(), {})),
              HasSubstr("holds neither"));
  unsetenv("DLC_DATASETS");
}

TEST(DatasetTest, NamedDatasetFromDlcDatasets) {
  TempDir root;
  llvm::sys::fs::create_directory(root.file("mnist"));
  writeIdxDataset(root.file("mnist"), 6, 2, 3, 3, 10, true);
  setenv("DLC_DATASETS", ("/nowhere:" + root.path()).c_str(), 1);
  auto splits = loadDataset("mnist", {3, 3, 1, 10, 0});
  unsetenv("DLC_DATASETS");
  ASSERT_TRUE(bool(splits)) << errorMessage(splits);
  EXPECT_EQ(splits->train.size(), 6);
  EXPECT_THAT(splits->description, HasSubstr("mnist ("));
}

TEST(DatasetTest, FashionMnistFromTheDebianPackage) {
  if (!isDirectory("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  unsetenv("DLC_DATASETS");
  auto splits = loadDataset("fashion-mnist", {28, 28, 1, 10, 0});
  ASSERT_TRUE(bool(splits)) << errorMessage(splits);
  EXPECT_EQ(splits->train.size(), 60000);
  EXPECT_EQ(splits->test.size(), 10000);
  EXPECT_EQ(splits->train.imageSize(), 784);
  // The first training image is an ankle boot (class 9), the first test
  // image too.
  EXPECT_EQ(splits->train.labels[0], 9);
  EXPECT_EQ(splits->test.labels[0], 9);
}

//===----------------------------------------------------------------------===//
// CIFAR-10
//===----------------------------------------------------------------------===//

/// One CIFAR record with label `label` and pixel value (c * 1024 + p) % 251.
static std::vector<uint8_t> cifarRecord(uint8_t label) {
  std::vector<uint8_t> r = {label};
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p)
      r.push_back(uint8_t((c * 1024 + p) % 251));
  return r;
}

TEST(CifarTest, ConvertsPlanarToNHWC) {
  std::vector<uint8_t> bytes = cifarRecord(3), second = cifarRecord(9);
  bytes.insert(bytes.end(), second.begin(), second.end());
  Dataset data;
  ASSERT_FALSE(errorMessage(parseCifarBatch(bytes, "b", data)).size());
  EXPECT_EQ(data.size(), 2);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{3, 9}));
  EXPECT_EQ(data.height, 32);
  EXPECT_EQ(data.channels, 3);
  // Pixel p = 5, channel c = 2 lands at NHWC offset p * 3 + c.
  EXPECT_EQ(data.image(1)[5 * 3 + 2], (2 * 1024 + 5) % 251);
}

TEST(CifarTest, RejectsTruncatedAndBadLabels) {
  std::vector<uint8_t> bytes = cifarRecord(1);
  bytes.pop_back();
  Dataset data;
  EXPECT_THAT(errorMessage(parseCifarBatch(bytes, "b", data)),
              HasSubstr("truncated CIFAR-10 batch"));
  EXPECT_THAT(errorMessage(parseCifarBatch(cifarRecord(10), "b", data)),
              HasSubstr("has label 10"));
}

TEST(CifarTest, ReadsDirectory) {
  TempDir dir;
  llvm::sys::fs::create_directory(dir.file("cifar-10-batches-bin"));
  for (const char *name :
       {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"})
    writeFile(dir.file(std::string("cifar-10-batches-bin/") + name),
              cifarRecord(7));
  EXPECT_TRUE(isCifarDirectory(dir.path()));
  auto splits = loadDataset(dir.path(), {32, 32, 3, 10, 0});
  ASSERT_TRUE(bool(splits)) << errorMessage(splits);
  EXPECT_EQ(splits->train.size(), 5);
  EXPECT_EQ(splits->test.size(), 1);

  llvm::sys::fs::remove(dir.file("cifar-10-batches-bin/data_batch_4.bin"));
  EXPECT_THAT(errorMessage(splits = loadDataset("cifar10:" + dir.path(), {})),
              HasSubstr("missing CIFAR-10 file"));
}

//===----------------------------------------------------------------------===//
// Synthetic
//===----------------------------------------------------------------------===//

TEST(SyntheticTest, DeterministicAndConfigurable) {
  auto options = parseSyntheticOptions("train=50,test=10,shape=5x6x2,classes=4,"
                                       "noise=10,seed=3",
                                       {});
  ASSERT_TRUE(bool(options)) << errorMessage(options);
  DataSplits a = generateSynthetic(*options), b = generateSynthetic(*options);
  EXPECT_EQ(a.train.pixels, b.train.pixels);
  EXPECT_EQ(a.test.labels, b.test.labels);
  EXPECT_EQ(a.train.size(), 50);
  EXPECT_EQ(a.train.imageSize(), 5 * 6 * 2);
  options->seed = 4;
  EXPECT_NE(generateSynthetic(*options).train.pixels, a.train.pixels);
  for (int32_t label : a.train.labels)
    EXPECT_LT(label, 4);
}

TEST(SyntheticTest, RejectsBadOptions) {
  auto options = parseSyntheticOptions("shape=5x6", {});
  EXPECT_THAT(errorMessage(options), HasSubstr("expected HxWxC"));
  EXPECT_THAT(errorMessage(options = parseSyntheticOptions("colour=red", {})),
              HasSubstr("unknown key"));
}

TEST(SyntheticTest, IsLearnable) {
  // Nearest class mean (estimated on train) must beat chance by far on
  // test: the classes have structure a model can find.
  SyntheticOptions o;
  o.trainSize = 600;
  o.testSize = 200;
  o.height = o.width = 8;
  o.numClasses = 4;
  DataSplits data = generateSynthetic(o);
  int64_t size = data.train.imageSize();
  std::vector<double> means(o.numClasses * size, 0);
  std::vector<int> counts(o.numClasses, 0);
  for (int64_t i = 0; i < data.train.size(); ++i) {
    int32_t y = data.train.labels[i];
    ++counts[y];
    for (int64_t p = 0; p < size; ++p)
      means[y * size + p] += data.train.image(i)[p];
  }
  for (int k = 0; k < o.numClasses; ++k)
    for (int64_t p = 0; p < size; ++p)
      means[k * size + p] /= std::max(1, counts[k]);
  int right = 0;
  for (int64_t i = 0; i < data.test.size(); ++i) {
    int best = 0;
    double bestDistance = INFINITY;
    for (int k = 0; k < o.numClasses; ++k) {
      double d = 0;
      for (int64_t p = 0; p < size; ++p) {
        double diff = data.test.image(i)[p] - means[k * size + p];
        d += diff * diff;
      }
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    right += best == data.test.labels[i];
  }
  EXPECT_GT(right, 0.6 * data.test.size());
}

//===----------------------------------------------------------------------===//
// Batching
//===----------------------------------------------------------------------===//

TEST(BatcherTest, PadsTheLastBatchFromTheEpochStart) {
  std::vector<uint32_t> order = {4, 2, 0, 1, 3};
  llvm::SmallVector<uint32_t> rows;
  batchIndices(order, 0, 2, rows);
  EXPECT_EQ(rows, (llvm::SmallVector<uint32_t>{4, 2}));
  batchIndices(order, 2, 2, rows);
  EXPECT_EQ(rows, (llvm::SmallVector<uint32_t>{3, 4}));
  EXPECT_EQ(batchesPerEpoch(5, 2, false), 3);
  EXPECT_EQ(batchesPerEpoch(5, 2, true), 2);
  // Fewer samples than a batch: the order repeats.
  batchIndices({1, 0}, 0, 5, rows);
  EXPECT_EQ(rows, (llvm::SmallVector<uint32_t>{1, 0, 1, 0, 1}));
}

TEST(BatcherTest, ValidationSplitTakesTheTail) {
  EXPECT_EQ(validationCount(60000, 0.1), 6000);
  EXPECT_EQ(validationCount(10, 0.25), 2);
  EXPECT_EQ(validationCount(10, 0), 0);
}

TEST(BatcherTest, NormalizesPerChannel) {
  Dataset data;
  data.height = data.width = 1;
  data.channels = 2;
  data.pixels = {255, 0, 51, 102};
  data.labels = {1, 0};
  Normalization norm;
  norm.scale = {1.0f / 255, 2.0f / 255};
  norm.offset = {0, -1};
  BatchAssembler batches(data, norm);
  float input[4];
  int32_t labels[2];
  uint32_t rows[] = {1, 0};
  batches.assemble(rows, 0, input, labels);
  EXPECT_FLOAT_EQ(input[0], 0.2f);
  EXPECT_FLOAT_EQ(input[1], 2 * 0.4f - 1);
  EXPECT_FLOAT_EQ(input[2], 1.0f);
  EXPECT_FLOAT_EQ(input[3], -1.0f);
  EXPECT_EQ(labels[0], 0);
  EXPECT_EQ(labels[1], 1);
}

} // namespace
