//===- ReliabilityTest.cpp - Hostile inputs to the training executable ----===//
//
// Reproducers of issue #16: edited checkpoint metadata, deeply nested JSON,
// a gzip bomb, wrong IDX magic numbers, out-of-range labels, and the
// smaller command-line traps (a resume hint that must work alone, an empty
// --out, a directory where a checkpoint goes, stale temporary files). Each
// must end in an error naming the file (and key), before any training
// step, never in a crash or a silent wrong answer.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "TestUtil.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Data/Cifar.h"
#include "dlc/Runtime/Data/Idx.h"
#include "dlc/Runtime/Runtime.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/FileSystem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

const char *kData = "synthetic:train=200,test=50,noise=24";

struct Result {
  int status;
  std::string out, err;
};

Result runCli(std::vector<std::string> args) {
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.status = runMain("fake", args, fakeModel(), out, err, /*terminal=*/false);
  return r;
}

/// Rewrites checkpoint `from` into `to` with metadata key `key` set to
/// `value` (or removed when `value` is null); the tensors stay.
void editMetadata(const std::string &from, const std::string &to,
                  const char *key, const char *value) {
  auto file = SafeTensorsFile::read(from);
  ASSERT_TRUE(bool(file)) << errorMessage(file);
  std::vector<Tensor> tensors;
  for (const SafeTensorsFile::Entry &e : file->getEntries()) {
    tensors.emplace_back(e.dtype, e.shape);
    std::memcpy(tensors.back().data(), e.data.data(), e.data.size());
  }
  std::vector<std::pair<std::string, const Tensor *>> named;
  for (auto [e, t] : llvm::zip(file->getEntries(), tensors))
    named.push_back({e.name, &t});
  Metadata meta = file->getMetadata();
  if (value)
    meta[key] = value;
  else
    meta.erase(key);
  writeFile(to, serializeSafeTensors(named, meta));
}

class ReliabilityTest : public ::testing::Test {
protected:
  void SetUp() override {
    resetFakeHooks();
    // One epoch and a mid-epoch checkpoint (Ctrl-C at step 15: epoch 2,
    // batch 3) to edit.
    Result r = runCli({"train", "--data", kData, "--out", run.path(),
                       "--epochs", "1", "--seed", "5"});
    ASSERT_EQ(r.status, ExitSuccess) << r.err;
    resetFakeHooks();
  }
  std::string last() const { return run.file("last.safetensors"); }

  /// Resumes and evaluates from `last` edited so; both must fail with
  /// `message` naming the file and key, before any step.
  void expectRejected(const char *key, const char *value,
                      const std::string &message, bool evaluateToo = true) {
    SCOPED_TRACE(std::string(key) + " = " + (value ? value : "(absent)"));
    std::string edited = work.file("edited.safetensors");
    editMetadata(last(), edited, key, value);
    resetFakeHooks();
    Result r = runCli({"train", "--resume", edited, "--epochs", "3"});
    EXPECT_EQ(r.status, ExitError) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("checkpoint '" + edited + "'"));
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(fakeHooks().trainCalls, 0);
    if (!evaluateToo)
      return;
    r = runCli({"evaluate", "--checkpoint", edited, "--data", kData});
    EXPECT_EQ(r.status, ExitError) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
  }

  TempDir run, work;
};

TEST(JsonDepthTest, CountsBracketsOutsideStrings) {
  EXPECT_FALSE(checkJsonDepth(R"({"a": [1, {"b": "[[[[[["}]})", "x", 3));
  EXPECT_TRUE(bool(checkJsonDepth(R"({"a": [1, {"b": 2}]})", "x", 2)));
  std::string deep(65, '[');
  EXPECT_THAT(errorMessage(checkJsonDepth(deep, "the header")),
              HasSubstr("the header nests deeper than 64 levels"));
  EXPECT_FALSE(checkJsonDepth(std::string(64, '['), "x"));
  // Escaped quotes do not end a string.
  EXPECT_FALSE(checkJsonDepth(R"(["\"[[[[", 1])", "x", 1));
}

TEST(SafeTensorsDepthTest, DeeplyNestedHeaderIsAnErrorNotACrash) {
  // 50,000 levels: llvm::json would recurse that deep and overflow.
  std::string header = "{\"__metadata__\": " + std::string(50000, '[') +
                       std::string(50000, ']') + "}";
  std::vector<uint8_t> bytes(8);
  uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  auto file = SafeTensorsFile::parse(bytes, "deep.safetensors");
  EXPECT_THAT(errorMessage(file),
              HasSubstr("deep.safetensors: not a valid safetensors file: the "
                        "header nests deeper than 64 levels"));
}

TEST(SafeTensorsDepthTest, ShapesThatOverflowAreRejected) {
  std::string header =
      R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})";
  std::vector<uint8_t> bytes(8);
  uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  auto file = SafeTensorsFile::parse(bytes, "big.safetensors");
  EXPECT_THAT(errorMessage(file), HasSubstr("has a bad shape"));
}

TEST_F(ReliabilityTest, EveryMetadataValueIsRangeChecked) {
  expectRejected("batch", "-1",
                 "metadata 'batch' is '-1'; expected an "
                 "integer >= 0");
  expectRejected("batch", "-64", "metadata 'batch' is '-64'");
  expectRejected("step", "-1", "metadata 'step' is '-1'");
  expectRejected("epoch", "-1", "metadata 'epoch' is '-1'");
  expectRejected("step", "12x", "metadata 'step' is '12x'");
  expectRejected("validation_split", "1.5",
                 "metadata 'validation_split' is '1.5'; expected a number in "
                 "[0, 0.99]");
  expectRejected("validation_split", "0.1junk",
                 "metadata 'validation_split' is '0.1junk'");
  expectRejected("best_value", "nan", "metadata 'best_value' is 'nan'");
  expectRejected("best_value", "inf", "metadata 'best_value' is 'inf'");
  // Checkpoints of older runs name no checkpoint monitor: their
  // best_accuracy is read (the callbacks' keys: CallbacksTest.cpp).
  expectRejected("checkpoint_monitor", nullptr,
                 "metadata 'best_accuracy' is missing");
  expectRejected("epoch_loss_sum", "inf", "metadata 'epoch_loss_sum' is 'inf'");
  expectRejected("batch_size", "0", "metadata 'batch_size' is '0'");
  expectRejected("threads", "-1", "metadata 'threads' is '-1'");
  expectRejected("seed", "-3", "metadata 'seed' is '-3'");
  expectRejected("drop_remainder", "maybe",
                 "metadata 'drop_remainder' is 'maybe'; expected true or "
                 "false");
  expectRejected("model", "someone_else",
                 "metadata 'model' is 'someone_else' but this executable is "
                 "model 'fake_logreg'");
  expectRejected("format", "", "metadata 'format' is empty");
  expectRejected("format", "dlc-checkpoint/9",
                 "metadata 'format' is 'dlc-checkpoint/9'; this runtime reads "
                 "dlc-checkpoint/1");
  expectRejected("format", nullptr, "metadata 'format' is missing");
  expectRejected("step", nullptr, "metadata 'step' is missing");
  expectRejected("data", "", "metadata 'data' is empty");
  expectRejected("epoch_samples", "32",
                 "metadata 'epoch_samples' is 32, but batch 0 of batch size "
                 "16 means 0 samples");
  expectRejected("best_epoch", "7",
                 "metadata 'best_epoch' is 7, but only 1 "
                 "epochs are finished");
  expectRejected("history", "[{\"epoch\": 3}]",
                 "metadata 'history' record 0 "
                 "is for epoch 3");
  // The position counts batches of the compiled size: resume refuses
  // another; evaluate does not depend on it.
  expectRejected("batch_size", "32",
                 "metadata 'batch_size' is 32 but this "
                 "executable was compiled for batch size "
                 "16",
                 /*evaluateToo=*/false);
}

TEST_F(ReliabilityTest, DeeplyNestedHistoryIsAnErrorNotACrash) {
  std::string deep = std::string(50000, '[') + std::string(50000, ']');
  expectRejected("history", deep.c_str(),
                 "metadata 'history' the JSON nests deeper than 64 levels");
}

TEST_F(ReliabilityTest, UnchangedCheckpointStillResumes) {
  // The reader accepts what dlc writes (the edit helper itself is sound).
  std::string copy = work.file("copy.safetensors");
  editMetadata(last(), copy, "shuffle", "anything");
  Result r = runCli(
      {"train", "--resume", copy, "--epochs", "2", "--out", work.path()});
  EXPECT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_EQ(fakeHooks().trainCalls, 12);
}

TEST_F(ReliabilityTest, ResumeHintWorksAlone) {
  // The checkpoint records --data and --epochs: `--resume X` needs nothing
  // else. Interrupt a 2-epoch run in epoch 2, then resume with only that.
  TempDir again;
  fakeHooks().interruptAtStep = 14;
  Result r = runCli({"train", "--data", kData, "--out", again.path(),
                     "--epochs", "2", "--seed", "5"});
  ASSERT_EQ(r.status, ExitInterrupted) << r.err;
  std::string hint = "continue with --resume " + again.file("last.safetensors");
  EXPECT_THAT(r.out, HasSubstr(hint));
  auto meta = SafeTensorsFile::read(again.file("last.safetensors"));
  ASSERT_TRUE(bool(meta));
  EXPECT_EQ(meta->getMetadata().at("epochs"), "2");
  resetFakeHooks();
  r = runCli({"train", "--resume", again.file("last.safetensors")});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("epoch 2/2"));
  EXPECT_EQ(fakeHooks().trainCalls, 24 - 15);
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("warning")));
}

TEST_F(ReliabilityTest, EmptyOutIsAnError) {
  Result r = runCli({"train", "--data", kData, "--out", ""});
  EXPECT_EQ(r.status, ExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--out needs a directory"));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
}

TEST_F(ReliabilityTest, DirectoryInPlaceOfACheckpointFailsBeforeTraining) {
  TempDir out;
  ASSERT_FALSE(llvm::sys::fs::create_directory(out.file("last.safetensors")));
  Result r = runCli({"train", "--data", kData, "--out", out.path()});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("it exists and is not a regular file (a "
                               "directory)"));
  EXPECT_THAT(r.err, HasSubstr(out.file("last.safetensors")));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
}

TEST_F(ReliabilityTest, StaleTemporaryFilesOfDeadProcessesAreRemoved) {
  TempDir out;
  // A process that has exited: its PID is free (until reused).
  pid_t child = fork();
  if (child == 0)
    _exit(0);
  int status;
  waitpid(child, &status, 0);
  std::string stale = out.file("last.safetensors.tmp." + std::to_string(child));
  std::string live =
      out.file("old.safetensors.tmp." + std::to_string(int(getpid())));
  std::string other = out.file("notes.tmp.txt");
  for (const std::string &f : {stale, live, other})
    writeFile(f, {1, 2, 3});
  Result r =
      runCli({"train", "--data", kData, "--out", out.path(), "--epochs", "1"});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_FALSE(llvm::sys::fs::exists(stale));
  EXPECT_TRUE(llvm::sys::fs::exists(live));
  EXPECT_TRUE(llvm::sys::fs::exists(other));
}

TEST_F(ReliabilityTest, UnsupportedDTypeIsNamed) {
  std::string header =
      R"({"dense/kernel":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})";
  std::vector<uint8_t> bytes(8);
  uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), {0, 0, 0, 0});
  std::string path = work.file("half.safetensors");
  writeFile(path, bytes);
  Result r = runCli({"evaluate", "--checkpoint", path, "--data", kData});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("tensor 'dense/kernel' has dtype F16, which "
                               "dlc does not support"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("not a valid safetensors")));
}

//===----------------------------------------------------------------------===//
// Data files
//===----------------------------------------------------------------------===//

TEST(IdxReliabilityTest, OutOfRangeLabelNamesTheLabelsFile) {
  TempDir data;
  writeIdxDataset(data.path(), 40, 10, 4, 4, /*classes=*/5, true);
  resetFakeHooks();
  TempDir out;
  Result r = runCli({"train", "--data", data.path(), "--out", out.path()});
  EXPECT_EQ(r.status, ExitError);
  EXPECT_THAT(r.err, HasSubstr("label out of range: " + data.path() +
                               "/train-labels-idx1-ubyte.gz has label 3"));
  EXPECT_EQ(fakeHooks().trainCalls, 0);
}

TEST(IdxReliabilityTest, WrongMagicIsReportedAsSuch) {
  // A label file where images belong (and the other way round): the magic
  // number's rank byte says so; it is not "unexpected bytes after the data".
  std::vector<uint8_t> labels = makeIdx({4}, {0, 1, 2, 0});
  auto parsed = parseIdx(labels, "train-images", IdxKind::Images);
  EXPECT_THAT(errorMessage(parsed),
              HasSubstr("train-images: magic number 0x00000801 announces rank "
                        "1, but this must be an image file (magic 0x00000803"));
  std::vector<uint8_t> images = makeIdx({1, 2, 2}, {0, 1, 2, 3});
  parsed = parseIdx(images, "train-labels", IdxKind::Labels);
  EXPECT_THAT(errorMessage(parsed),
              HasSubstr("magic number 0x00000803 announces rank 3, but this "
                        "must be a label file (magic 0x00000801 [N])"));
  parsed = parseIdx({0x1f, 0x8c, 0, 0, 0, 0}, "f", IdxKind::Images);
  EXPECT_THAT(errorMessage(parsed), HasSubstr("bad magic number 0x1f8c0000: "
                                              "not an IDX file"));
}

/// gzip of `prefix` followed by `zeros` zero bytes, compressed as one
/// stream without materializing the zeros.
std::vector<uint8_t> gzipWithZeros(llvm::ArrayRef<uint8_t> prefix,
                                   uint64_t zeros) {
  z_stream zs{};
  EXPECT_EQ(
      deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::vector<uint8_t> out, chunk(1 << 20), zero(1 << 20, 0);
  auto pump = [&](const uint8_t *in, size_t n, int flush) {
    zs.next_in = const_cast<Bytef *>(in);
    zs.avail_in = n;
    do {
      zs.next_out = chunk.data();
      zs.avail_out = chunk.size();
      deflate(&zs, flush);
      out.insert(out.end(), chunk.data(),
                 chunk.data() + (chunk.size() - zs.avail_out));
    } while (zs.avail_out == 0);
  };
  pump(prefix.data(), prefix.size(), Z_NO_FLUSH);
  for (uint64_t left = zeros; left > 0;) {
    size_t n = std::min<uint64_t>(left, zero.size());
    left -= n;
    pump(zero.data(), n, left ? Z_NO_FLUSH : Z_FINISH);
  }
  deflateEnd(&zs);
  return out;
}

long maxRssKiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(IdxReliabilityTest, GzipBombStopsAtTheDeclaredSize) {
  // A valid image file followed by 512 MiB of zeros in the same gzip
  // stream (about 0.5 MiB compressed): the reader decompresses the header
  // and the data it announces, sees one byte more, and stops.
  std::vector<uint8_t> pixels(4 * 4 * 4, 7);
  std::vector<uint8_t> bomb =
      gzipWithZeros(makeIdx({4, 4, 4}, pixels), uint64_t(512) << 20);
  TempDir dir;
  std::string path = dir.file("train-images-idx3-ubyte.gz");
  writeFile(path, bomb);
  long before = maxRssKiB();
  auto stream = ByteStream::openFile(path);
  ASSERT_TRUE(bool(stream));
  auto parsed = readIdx(*stream, IdxKind::Images);
  EXPECT_THAT(errorMessage(parsed),
              HasSubstr(path + ": the gzip data is longer than the 80 bytes "
                               "its IDX header announces"));
  // Nothing near 512 MiB was allocated.
  EXPECT_LT(maxRssKiB() - before, 64 * 1024);

  // Shorter than announced: truncated.
  std::vector<uint8_t> whole = makeIdx({4, 4, 4}, pixels);
  whole.resize(whole.size() - 5);
  parsed = parseIdx(gzip(whole), "short.gz", IdxKind::Images);
  EXPECT_THAT(errorMessage(parsed),
              HasSubstr("short.gz: truncated IDX file: the header announces "
                        "64 bytes of data but only 59 are present"));
}

TEST(IdxReliabilityTest, AHeaderThatLiesAboutItsSizeAllocatesNothingHuge) {
  // 60 compressed bytes whose header announces 10000 images of 600x600
  // (3.6 GB): memory grows with the data that arrives (found by fuzz-idx).
  std::vector<uint8_t> header = makeIdx({10000, 600, 600}, {1, 2, 3});
  long before = maxRssKiB();
  auto parsed = parseIdx(gzip(header), "liar.gz", IdxKind::Images);
  EXPECT_THAT(errorMessage(parsed),
              HasSubstr("liar.gz: truncated IDX file: the header announces "
                        "3600000000 bytes of data but only 3 are present"));
  EXPECT_LT(maxRssKiB() - before, 128 * 1024);
}

TEST(IdxReliabilityTest, CifarBombIsBounded) {
  // A .bin that is really gzip expanding to 200 MB of zeros: the reader
  // stops at 4 times the size of a distribution batch file.
  TempDir dir;
  writeFile(dir.file("data_batch_1.bin"),
            gzipWithZeros({}, uint64_t(200) << 20));
  writeFile(dir.file("test_batch.bin"), std::vector<uint8_t>(3073, 0));
  auto splits = readCifarDirectory(dir.path());
  EXPECT_THAT(errorMessage(splits),
              HasSubstr("data_batch_1.bin: the file decompresses to more "
                        "than 122920000 bytes"));
}

TEST(IdxReliabilityTest, GenericReadersAreBounded) {
  std::vector<uint8_t> bomb = gzipWithZeros({}, uint64_t(64) << 20);
  auto out = gunzip(bomb, "bomb.gz", 1 << 20);
  EXPECT_THAT(errorMessage(out),
              HasSubstr("bomb.gz: the gzip data decompresses to more than "
                        "1048576 bytes"));
  auto ok = gunzip(gzip({1, 2, 3}), "small.gz");
  ASSERT_TRUE(bool(ok)) << errorMessage(ok);
  EXPECT_EQ(*ok, (std::vector<uint8_t>{1, 2, 3}));
}

} // namespace

namespace {
TEST(FlatInputTest, ImagesFitAFlatInputByValueCount) {
  Dataset images;
  images.source = "images.idx";
  images.height = 28;
  images.width = 28;
  images.channels = 1;
  images.labels = {0};
  images.pixels.resize(784);
  DataRequest flat{1, 784, 1, 10, 0, /*flat=*/true};
  EXPECT_FALSE(checkDataset(images, flat));
  DataRequest other{1, 100, 1, 10, 0, /*flat=*/true};
  EXPECT_THAT(errorMessage(checkDataset(images, other)),
              HasSubstr("the model takes flat inputs of 100 values but "
                        "images.idx has 28x28x1 images (784 values)"));
  // Without `flat`, the shape must match exactly.
  DataRequest exact{1, 784, 1, 10, 0};
  EXPECT_THAT(errorMessage(checkDataset(images, exact)),
              HasSubstr("shape mismatch: the model takes 1x784x1 images"));
}
} // namespace
