// hollerith-spec-bench: what `matrix:` costs to parse. A stack with an N x M matrix (10,000
// stacks at the default 100 x 100) is parsed, expanded and validated (ParseJobSpec), and so is
// the same job written out stack by stack (the text `validate --expand` prints for it), each
// `--reps` times, alternately so that both see the same machine; prints the medians and their
// ratio (issue 25's target: matrix / written-out <= 1.5). YAML, then the same in JSON.
//   hollerith-spec-bench [--rows 100] [--columns 100] [--reps 7]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/spec/parser.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string MatrixSpec(int rows, int columns, bool json) {
  auto list = [](const char* prefix, int n) {
    std::string out = "[";
    for (int i = 0; i < n; ++i) out += (i ? ", \"" : "\"") + (prefix + std::to_string(i)) + "\"";
    return out + "]";
  };
  if (json) {
    return R"({"name": "bench", "stacks": {"s": {"matrix": {"sample": )" + list("x", rows) +
           R"(, "chunk": )" + list("", columns) + R"(},
  "cards": [{"id": "fetch", "run": "fetch ${{ matrix.sample }} ${{ matrix.chunk }} > data.txt",
             "outputs": ["data.txt"], "env": {"CHUNK": "${{ matrix.chunk }}"}},
            {"id": "sum", "run": "awk '{s+=$1} END {print s}' data.txt", "timeout": "30s"}]}}})";
  }
  return "name: bench\nstacks:\n  s:\n    matrix:\n      sample: " + list("x", rows) +
         "\n      chunk: " + list("", columns) +
         "\n    cards:\n"
         "      - id: fetch\n"
         "        run: fetch ${{ matrix.sample }} ${{ matrix.chunk }} > data.txt\n"
         "        outputs: [data.txt]\n"
         "        env: {CHUNK: \"${{ matrix.chunk }}\"}\n"
         "      - id: sum\n"
         "        run: awk '{s+=$1} END {print s}' data.txt\n"
         "        timeout: 30s\n";
}

double Seconds(const std::string& text, size_t* stacks) {
  const auto start = Clock::now();
  auto job = hollerith::ParseJobSpec(text, "bench");
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.message().c_str());
    std::exit(1);
  }
  *stacks = job->stacks.size();
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 100;
  int columns = 100;
  int reps = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int value = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rows") == 0) rows = value;
    if (std::strcmp(argv[i], "--columns") == 0) columns = value;
    if (std::strcmp(argv[i], "--reps") == 0) reps = value;
  }
  if (rows < 1 || columns < 1 || reps < 1) {
    std::fprintf(stderr, "usage: hollerith-spec-bench [--rows N] [--columns M] [--reps R]\n");
    return 2;
  }
  for (const bool json : {false, true}) {
    const std::string matrix = MatrixSpec(rows, columns, json);
    auto written = hollerith::ExpandJobSpec(
        matrix, "bench", json ? hollerith::SpecFormat::kJson : hollerith::SpecFormat::kYaml);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.message().c_str());
      return 1;
    }
    std::vector<double> matrix_s;
    std::vector<double> written_s;
    size_t matrix_stacks = 0;
    size_t written_stacks = 0;
    for (int r = 0; r < reps; ++r) {
      matrix_s.push_back(Seconds(matrix, &matrix_stacks));
      written_s.push_back(Seconds(*written, &written_stacks));
    }
    if (matrix_stacks != written_stacks) {
      std::fprintf(stderr, "the two specs give %zu and %zu stacks\n", matrix_stacks,
                   written_stacks);
      return 1;
    }
    const double m = Median(matrix_s);
    const double w = Median(written_s);
    std::printf(
        "%s, %zu stacks: matrix (%zu bytes) %.4f s, written out (%zu bytes) %.4f s, "
        "ratio %.2f (medians of %d)\n",
        json ? "json" : "yaml", matrix_stacks, matrix.size(), m, written->size(), w, m / w, reps);
  }
  return 0;
}
