//===- MonitorTest.cpp - Event files, CSV, history, report, progress ------===//
//
// The event-file test reads the files back with an independent TFRecord and
// protobuf decoder and checks every CRC, as TensorBoard's reader does.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dlc/Runtime/Analysis.h"
#include "dlc/Runtime/Monitor/EventFile.h"
#include "dlc/Runtime/Monitor/Metrics.h"
#include "dlc/Runtime/Monitor/Progress.h"
#include "dlc/Runtime/Monitor/Report.h"

#include "llvm/Support/Base64.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <map>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

TEST(Crc32cTest, KnownVectors) {
  auto crc = [](llvm::StringRef s) {
    return crc32c(llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(s.data()), s.size()));
  };
  // RFC 3720 (iSCSI) B.4 and the common check value.
  EXPECT_EQ(crc("123456789"), 0xE3069283u);
  EXPECT_EQ(crc(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc(std::string(32, '\xff')), 0x62A8AB43u);
}

/// A decoded Event.
struct Event {
  double wallTime = 0;
  int64_t step = 0;
  std::string fileVersion;
  std::map<std::string, float> scalars;
};

/// Reads varint-keyed fields of one protobuf message.
class ProtoReader {
public:
  explicit ProtoReader(llvm::StringRef data) : data(data) {}
  bool next(int &field, int &wireType, uint64_t &varint,
            llvm::StringRef &bytes) {
    if (data.empty())
      return false;
    uint64_t key = readVarint();
    field = int(key >> 3);
    wireType = int(key & 7);
    switch (wireType) {
    case 0:
      varint = readVarint();
      break;
    case 1:
      bytes = data.take_front(8);
      data = data.drop_front(8);
      break;
    case 2: {
      uint64_t n = readVarint();
      bytes = data.take_front(n);
      data = data.drop_front(n);
      break;
    }
    case 5:
      bytes = data.take_front(4);
      data = data.drop_front(4);
      break;
    default:
      ADD_FAILURE() << "unexpected wire type " << wireType;
      return false;
    }
    return true;
  }

private:
  uint64_t readVarint() {
    uint64_t v = 0;
    for (int shift = 0; !data.empty(); shift += 7) {
      uint8_t b = data.front();
      data = data.drop_front();
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80))
        break;
    }
    return v;
  }
  llvm::StringRef data;
};

Event decodeEvent(llvm::StringRef data) {
  Event e;
  ProtoReader reader(data);
  int field, wire;
  uint64_t varint;
  llvm::StringRef bytes;
  while (reader.next(field, wire, varint, bytes)) {
    if (field == 1 && wire == 1)
      std::memcpy(&e.wallTime, bytes.data(), 8);
    else if (field == 2 && wire == 0)
      e.step = int64_t(varint);
    else if (field == 3 && wire == 2)
      e.fileVersion = bytes.str();
    else if (field == 5 && wire == 2) {
      ProtoReader summary(bytes);
      llvm::StringRef value;
      while (summary.next(field, wire, varint, value)) {
        EXPECT_EQ(field, 1);
        ProtoReader v(value);
        std::string tag;
        float simple = NAN;
        llvm::StringRef b;
        while (v.next(field, wire, varint, b)) {
          if (field == 1)
            tag = b.str();
          else if (field == 2 && wire == 5)
            std::memcpy(&simple, b.data(), 4);
        }
        e.scalars[tag] = simple;
      }
    }
  }
  return e;
}

/// Splits a TFRecord file, checking both CRCs of every record.
std::vector<Event> readEvents(const std::vector<uint8_t> &file) {
  std::vector<Event> events;
  size_t pos = 0;
  auto masked = [](const uint8_t *p, size_t n) {
    uint32_t crc = crc32c(llvm::ArrayRef<uint8_t>(p, n));
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  };
  while (pos < file.size()) {
    EXPECT_GE(file.size() - pos, 12u) << "truncated record header";
    uint64_t length;
    uint32_t lengthCrc, dataCrc;
    std::memcpy(&length, &file[pos], 8);
    std::memcpy(&lengthCrc, &file[pos + 8], 4);
    EXPECT_EQ(lengthCrc, masked(&file[pos], 8)) << "length CRC at " << pos;
    EXPECT_GE(file.size() - pos - 12, length + 4) << "truncated record";
    const uint8_t *data = &file[pos + 12];
    std::memcpy(&dataCrc, data + length, 4);
    EXPECT_EQ(dataCrc, masked(data, length)) << "data CRC at " << pos;
    events.push_back(decodeEvent(
        llvm::StringRef(reinterpret_cast<const char *>(data), length)));
    pos += 12 + length + 4;
  }
  return events;
}

TEST(EventFileTest, RecordsParseBackWithValidCrcs) {
  TempDir dir;
  EventFileWriter writer;
  ASSERT_FALSE(writer.open(dir.path()));
  ASSERT_FALSE(writer.addScalars(1, {{"loss", 0.75f}, {"accuracy", 0.5f}}));
  ASSERT_FALSE(writer.addScalars(2, {{"loss", 0.25f},
                                     {"val_loss", 0.5f},
                                     {"val_accuracy", 0.875f},
                                     {"learning_rate", 0.001f}}));
  EXPECT_THAT(writer.getPath(), HasSubstr("events.out.tfevents."));
  std::vector<Event> events = readEvents(readFile(writer.getPath()));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].fileVersion, "brain.Event:2");
  EXPECT_GT(events[0].wallTime, 1.6e9);
  EXPECT_EQ(events[1].step, 1);
  EXPECT_EQ(events[1].scalars.at("loss"), 0.75f);
  EXPECT_EQ(events[1].scalars.at("accuracy"), 0.5f);
  EXPECT_EQ(events[2].step, 2);
  EXPECT_EQ(events[2].scalars.at("val_accuracy"), 0.875f);
  EXPECT_EQ(events[2].scalars.at("learning_rate"), 0.001f);

  // A second writer in the same directory and second gets its own file.
  EventFileWriter second;
  ASSERT_FALSE(second.open(dir.path()));
  EXPECT_NE(second.getPath(), writer.getPath());
}

TEST(EventFileTest, DetectsCorruption) {
  std::string record = frameRecord(encodeScalarEvent(1.0, 3, {{"loss", 1}}));
  std::vector<uint8_t> bytes(record.begin(), record.end());
  bytes[14] ^= 1; // A byte of the event data.
  ::testing::ScopedTrace trace(__FILE__, __LINE__, "corrupted on purpose");
  // The decoder must notice through the data CRC.
  size_t length;
  std::memcpy(&length, bytes.data(), 8);
  uint32_t stored;
  std::memcpy(&stored, &bytes[12 + length], 4);
  EXPECT_NE(stored, maskedCrc32c(llvm::ArrayRef<uint8_t>(&bytes[12], length)));
}

std::vector<EpochRecord> sampleHistory() {
  EpochRecord a;
  a.epoch = 1;
  a.step = 10;
  a.train = {0.9, 0.6};
  a.validation = Metric{0.8, 0.65};
  a.test = Metric{0.85, 0.62};
  a.learningRate = 0.001;
  a.imagesPerSecond = 1234.5;
  a.seconds = 2.5;
  EpochRecord b = a;
  b.epoch = 2;
  b.step = 20;
  b.train = {0.1 + 0.2, 2.0 / 3}; // Values that need 17 digits.
  b.validation.reset();
  return {a, b};
}

TEST(MetricsTest, CsvHasHeaderAndEmptyCellsForMissingValues) {
  std::string csv = formatMetricsCsv(sampleHistory());
  EXPECT_THAT(csv, ::testing::StartsWith(
                       "epoch,step,loss,accuracy,val_loss,val_accuracy,"
                       "test_loss,test_accuracy,learning_rate,images_per_sec,"
                       "seconds\n1,10,0.9,0.6,0.8,0.65,0.85,0.62,0.001,1234.5,"
                       "2.500\n"));
  EXPECT_THAT(csv, HasSubstr("\n2,20,0.30000000000000004,0.6666666666666666,,,"
                             "0.85,0.62,"));
}

TEST(MetricsTest, HistoryJsonRoundTripIsExact) {
  std::vector<EpochRecord> history = sampleHistory();
  history[1].test->loss = NAN;
  auto back = historyFromJson(historyToJson(history));
  ASSERT_TRUE(bool(back)) << errorMessage(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].train.loss, history[1].train.loss);
  EXPECT_EQ((*back)[1].train.accuracy, history[1].train.accuracy);
  EXPECT_FALSE((*back)[1].validation.has_value());
  EXPECT_TRUE(std::isnan((*back)[1].test->loss));
  EXPECT_EQ((*back)[0].validation->accuracy, 0.65);
}

TEST(MetricsTest, SummaryTable) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printEpochTable(os, sampleHistory());
  EXPECT_THAT(s, HasSubstr("epoch"));
  EXPECT_THAT(s, HasSubstr("val_acc"));
  EXPECT_THAT(s, HasSubstr("65.00%"));
  EXPECT_THAT(formatEpochLine(sampleHistory()[0], 5),
              HasSubstr("epoch 1/5  loss 0.9000  acc 60.00%  val_loss 0.8000"));
}

TEST(ReportTest, SelfContainedHtmlWithCurves) {
  ReportInfo info{"cnn <bn>", "finished", {{"seed", "0"}}, ""};
  std::string html = renderHtmlReport(info, sampleHistory());
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("cnn &lt;bn&gt;"));
  EXPECT_THAT(html, HasSubstr("aria-label=\"Loss\""));
  EXPECT_THAT(html, HasSubstr("aria-label=\"Accuracy\""));
  EXPECT_THAT(html, HasSubstr("<polyline"));
  EXPECT_THAT(html, HasSubstr(">validation</text>"));
  // Nothing to fetch: no external scripts, styles, images or fonts.
  EXPECT_THAT(html, ::testing::Not(HasSubstr("http")));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script src")));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<link")));
  // An empty history still renders.
  EXPECT_THAT(renderHtmlReport(info, {}), HasSubstr("No epoch has finished"));
}

TEST(ReportTest, FlatNonNegativeSeriesKeepsTheAxisAtOrAboveZero) {
  // A constant learning rate of 0.001 is padded into a visible band; the
  // band must not reach below zero (no "-0.005" label on the axis).
  std::vector<EpochRecord> history = sampleHistory();
  for (EpochRecord &r : history)
    r.learningRate = 0.001;
  ReportInfo info{"m", "finished", {}, ""};
  std::string html = renderHtmlReport(info, history);
  size_t chart = html.find("aria-label=\"Learning rate");
  ASSERT_NE(chart, std::string::npos);
  std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  EXPECT_THAT(svg, HasSubstr("class=\"ylabel\">0.000</text>"));
  EXPECT_THAT(svg, ::testing::Not(HasSubstr("class=\"ylabel\">-")));
}

static uint32_t bigEndian(const uint8_t *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
         p[3];
}

TEST(ReportTest, PngDecodesToTheImage) {
  // 3 x 2 RGB: every chunk's CRC holds and the IDAT inflates to the rows,
  // each behind a filter byte 0.
  ReportImage image{2, 3, 3, {}};
  for (int i = 0; i < 18; ++i)
    image.pixels.push_back(uint8_t(i * 14));
  std::vector<uint8_t> png = encodePng(image);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(std::memcmp(png.data(), "\x89PNG\r\n\x1a\n", 8), 0);
  std::map<std::string, std::vector<uint8_t>> chunks;
  std::vector<std::string> order;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t length = bigEndian(&png[at]);
    ASSERT_LE(at + 12 + length, png.size());
    std::string type(reinterpret_cast<const char *>(&png[at + 4]), 4);
    uLong crc = crc32(0, &png[at + 4], 4 + length);
    EXPECT_EQ(bigEndian(&png[at + 8 + length]), uint32_t(crc)) << type;
    chunks[type].assign(png.begin() + at + 8, png.begin() + at + 8 + length);
    order.push_back(type);
    at += 12 + length;
  }
  EXPECT_THAT(order, ::testing::ElementsAre("IHDR", "IDAT", "IEND"));
  const std::vector<uint8_t> &header = chunks["IHDR"];
  ASSERT_EQ(header.size(), 13u);
  EXPECT_EQ(bigEndian(&header[0]), 3u); // width
  EXPECT_EQ(bigEndian(&header[4]), 2u); // height
  EXPECT_EQ(header[8], 8);              // bit depth
  EXPECT_EQ(header[9], 2);              // RGB
  std::vector<uint8_t> raw(2 * (1 + 9));
  uLongf size = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &size, chunks["IDAT"].data(),
                       chunks["IDAT"].size()),
            Z_OK);
  ASSERT_EQ(size, raw.size());
  for (int y = 0; y < 2; ++y) {
    EXPECT_EQ(raw[y * 10], 0);
    for (int i = 0; i < 9; ++i)
      EXPECT_EQ(raw[y * 10 + 1 + i], image.pixels[y * 9 + i]);
  }
  // Grey images are colour type 0.
  EXPECT_EQ(encodePng(ReportImage{1, 1, 1, {7}})[8 + 8 + 9], 0);
}

TEST(ReportTest, ImageFromValuesSpansTheRange) {
  ReportImage image = imageFromValues({-2, 0, 2, NAN}, 2, 2, 1);
  EXPECT_THAT(image.pixels, ::testing::ElementsAre(0, 128, 255, 128));
  EXPECT_THAT(imageFromValues({3, 3}, 1, 2, 1).pixels,
              ::testing::ElementsAre(128, 128));
}

TEST(ReportTest, AnalysisSections) {
  ReportInfo info{"cnn", "finished", {}, ""};
  ReportAnalysis a;
  a.split = "test";
  a.classNames = {"cat", "dog <big>"};
  a.confusion = {7, 3, 1, 9};
  ReportImage pixel{1, 1, 1, {200}};
  a.samples = {{pixel, 0, 1, 0.99996}, {pixel, 1, 1, 0.8}};
  a.filterTitle = "conv2d/kernel: 2 filters of 1x1";
  a.filters = {pixel, pixel};
  a.featureInput = pixel;
  a.featureInputCaption = "test sample 0 (cat)";
  a.featureMaps = {{"conv2d", 1, 1, 3, {pixel, pixel, pixel}}};
  info.analysis = a;
  std::string html = renderHtmlReport(info, sampleHistory());
  EXPECT_THAT(html, HasSubstr("Confusion matrix (test)"));
  EXPECT_THAT(html, HasSubstr("<table class=\"confusion\">"));
  EXPECT_THAT(html, HasSubstr("dog &lt;big&gt;"));
  // Row "cat": 7 right, 3 taken for a dog (30% of the row).
  EXPECT_THAT(html, HasSubstr("title=\"cat as dog &lt;big&gt;: 3 (30.0%)\""));
  EXPECT_THAT(html, HasSubstr("aria-label=\"Per-class accuracy\""));
  EXPECT_THAT(html, HasSubstr("cat: 70.00% of 10"));
  EXPECT_THAT(html, HasSubstr("dog &lt;big&gt;: 90.00% of 10"));
  // The mistake comes first and says what the truth was.
  size_t wrong = html.find("figure class=\"sample wrong\"");
  size_t right = html.find("figure class=\"sample right\"");
  ASSERT_NE(wrong, std::string::npos);
  ASSERT_NE(right, std::string::npos);
  EXPECT_LT(wrong, right);
  EXPECT_THAT(html, HasSubstr("true: cat"));
  // Confidence rounds down: a sure-looking mistake is not "100%".
  EXPECT_THAT(html, HasSubstr("<b>dog &lt;big&gt;</b> 99.9%<br>true: cat"));
  EXPECT_THAT(html, HasSubstr("First convolution's filters"));
  EXPECT_THAT(html, HasSubstr("conv2d: 1x1, 3 channels"));
  // Every image is an inline PNG: 2 samples, 2 filters, the input, 3 maps.
  std::string pngUri = "src=\"data:image/png;base64," +
                       llvm::encodeBase64(encodePng(pixel)) + "\"";
  size_t images = 0;
  for (size_t at = html.find(pngUri); at != std::string::npos;
       at = html.find(pngUri, at + 1))
    ++images;
  EXPECT_EQ(images, 8u);
  EXPECT_THAT(html, ::testing::Not(HasSubstr("http")));
  // Without an analysis none of it shows.
  info.analysis.reset();
  EXPECT_THAT(renderHtmlReport(info, sampleHistory()),
              ::testing::Not(HasSubstr("Confusion matrix")));
}

TEST(ReportTest, ClassNames) {
  using ::testing::ElementsAre;
  // --class-names first, then the model's, then a known dataset's.
  EXPECT_THAT(classNamesFor({"a", "b"}, {"x", "y"}, "fashion-mnist", "", 2),
              ElementsAre("a", "b"));
  EXPECT_THAT(classNamesFor({}, {"x", "y"}, "", "", 2), ElementsAre("x", "y"));
  EXPECT_EQ(classNamesFor({}, {}, "fashion-mnist", "", 10)[9], "Ankle boot");
  EXPECT_EQ(classNamesFor({}, {}, "/usr/share/datasets/fashion-mnist",
                          "fashion-mnist (/usr/share/datasets/fashion-mnist)",
                          10)[0],
            "T-shirt/top");
  EXPECT_EQ(classNamesFor({}, {}, "cifar10", "", 10)[1], "automobile");
  EXPECT_EQ(classNamesFor({}, {}, "mnist", "", 10)[7], "7");
  // Unknown data, or a known name with another number of classes.
  EXPECT_THAT(classNamesFor({}, {}, "synthetic", "", 3),
              ElementsAre("class_0", "class_1", "class_2"));
  EXPECT_EQ(classNamesFor({}, {}, "cifar10", "", 4)[3], "class_3");

  auto list = parseClassNames(" cat, dog ,bird");
  ASSERT_TRUE(bool(list)) << llvm::toString(list.takeError());
  EXPECT_THAT(*list, ElementsAre("cat", "dog", "bird"));
  std::string error = llvm::toString(parseClassNames("cat,,dog").takeError());
  EXPECT_THAT(error, HasSubstr("name 2 is empty"));
}

TEST(ProgressTest, BarRedrawsInPlaceAndLinesDoNot) {
  std::string s;
  llvm::raw_string_ostream os(s);
  ProgressReporter bar(os, ProgressReporter::Style::Bar, 0);
  bar.beginEpoch(1, 2, 4, 0);
  bar.update(3, 4, 0.5, 0.75, 100);
  bar.println("epoch 1/2 done");
  EXPECT_THAT(s, HasSubstr("\r\x1b[2K"));
  EXPECT_THAT(s, HasSubstr("4/4  loss 0.5000  acc 75.00%"));
  EXPECT_THAT(s, HasSubstr("ETA"));
  s.clear();
  ProgressReporter lines(os, ProgressReporter::Style::Lines, 2);
  lines.beginEpoch(1, 2, 5, 0);
  for (int b = 0; b < 5; ++b)
    lines.update(b, b + 1, 0.5, 0.75, 100);
  EXPECT_THAT(s, ::testing::Not(HasSubstr("\r")));
  // Batches 2 and 4; the last batch is left to the epoch's summary line.
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2);
  EXPECT_THAT(s, HasSubstr("epoch 1/2  4/5  loss 0.5000"));
  EXPECT_EQ(ProgressReporter::formatDuration(3725), "1:02:05");
  EXPECT_EQ(ProgressReporter::formatDuration(65), "1:05");
}

/// Every line of \p text has at most \p width columns.
static void expectLinesFit(llvm::StringRef text, size_t width) {
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    // A bar redraw erases the line first: count what follows the erase.
    size_t erase = line.rfind("\x1b[2K");
    if (erase != llvm::StringRef::npos)
      line = line.drop_front(erase + 4);
    EXPECT_LE(line.size(), width) << "'" << line.str() << "'";
  }
}

TEST(MetricsTest, EpochLogAndTableFit80Columns) {
  // The widest values a long run prints: three-digit epochs, validation
  // and test metrics, six-digit speeds, losses above 10, slow epochs.
  std::vector<EpochRecord> history = sampleHistory();
  for (EpochRecord &r : history) {
    r.epoch = 100;
    r.train = {12.3456, 0.9999};
    r.test = Metric{12.3456, 1.0};
    r.validation = Metric{12.3456, 1.0};
    r.learningRate = 0.000123456;
    r.imagesPerSecond = 123456.7;
    r.seconds = 1234.5;
  }
  std::string line = formatEpochLine(history[0], 100);
  expectLinesFit(line, 79);
  // Nothing is lost by the line break.
  EXPECT_THAT(line, HasSubstr("test_acc 100.00%"));
  EXPECT_THAT(line, HasSubstr("123457 img/s"));
  EXPECT_THAT(line, HasSubstr("\n   "));
  // A record without validation and test metrics stays on one line.
  EpochRecord trainOnly = sampleHistory()[1];
  trainOnly.test.reset();
  EXPECT_EQ(llvm::count(formatEpochLine(trainOnly, 5), '\n'), 0);
  // Lines break between groups: test metrics continue on the next line.
  EXPECT_THAT(formatEpochLine(sampleHistory()[0], 5),
              HasSubstr("val_acc 65.00%\n   test_loss 0.8500  test_acc"));

  std::string table;
  llvm::raw_string_ostream os(table);
  printEpochTable(os, history);
  expectLinesFit(table, 79);
  EXPECT_THAT(table, HasSubstr("123k"));
}

TEST(ProgressTest, LinesAndBarFitTheWidth) {
  std::string s;
  llvm::raw_string_ostream os(s);
  ProgressReporter lines(os, ProgressReporter::Style::Lines, 1);
  lines.beginEpoch(100, 100, 60000, 0);
  lines.update(59998, 5999999, 12.3456, 0.9999, 123456.7);
  expectLinesFit(s, 79);
  EXPECT_THAT(s, HasSubstr("epoch 100/100  59999/60000  loss 12.3456"));
  // The bar follows $COLUMNS (the terminal's width where it is unset).
  for (const char *columns : {"80", "60"}) {
    s.clear();
    ::setenv("COLUMNS", columns, 1);
    EXPECT_EQ(terminalWidth(), std::atoi(columns));
    ProgressReporter bar(os, ProgressReporter::Style::Bar, 0);
    bar.beginEpoch(10, 10, 1875, 0);
    bar.update(1873, 18749, 0.1234, 0.95, 12345);
    expectLinesFit(s, std::atoi(columns) - 1);
    EXPECT_THAT(s, HasSubstr("1874/1875"));
  }
  ::unsetenv("COLUMNS");
}

} // namespace
