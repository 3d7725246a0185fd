#include "common/spec/yaml.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>
#include <string>

namespace hollerith {
namespace {

// yaml-cpp marks are 0-based; null marks (unknown place) become 1:1.
SourceMark ToSourceMark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return {1, 1};
  return {m.line + 1, m.column + 1};
}

// Lets yaml-cpp read the caller's text in place instead of copying it into a stringstream.
class ViewStreamBuf : public std::streambuf {
 public:
  explicit ViewStreamBuf(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // only read: streambuf's API is non-const
    setg(begin, begin, begin + text.size());
  }
};

class TreeHandler : public YAML::EventHandler {
 public:
  TreeHandler(const SpecLimits& limits, size_t source_bytes) : builder_(limits, source_bytes) {}

  DocTree Finish() { return builder_.Finish(); }
  bool complete() const { return builder_.complete(); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    // yaml-cpp marks an omitted value ("id:") at the next token, often on the next line; the
    // key is the better place to point at.
    const DocNode* key = builder_.PendingKey();
    builder_.Null(key ? key->mark() : ToSourceMark(mark));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    // Aliases would let a small file expand into a huge job (billion laughs); specs need none.
    throw SpecError(ToSourceMark(mark), "YAML aliases (*name) are not supported");
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    builder_.Scalar(ToSourceMark(mark), value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    builder_.StartSequence(ToSourceMark(mark));
  }
  void OnSequenceEnd() override { builder_.End(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    builder_.StartMap(ToSourceMark(mark));
  }
  void OnMapEnd() override { builder_.End(); }

 private:
  DocTreeBuilder builder_;
};

// Stops at the start of a second document.
class RejectDocumentHandler : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    throw SpecError(ToSourceMark(mark), "a spec must be a single YAML document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

DocTree ReadYamlDocument(std::string_view text, const SpecLimits& limits) {
  ViewStreamBuf buf(text);
  std::istream in(&buf);
  try {
    YAML::Parser parser(in);
    TreeHandler handler(limits, text.size());
    if (!parser.HandleNextDocument(handler) || !handler.complete()) {
      throw SpecError({1, 1}, "the spec is empty");
    }
    RejectDocumentHandler reject;
    parser.HandleNextDocument(reject);
    return handler.Finish();
  } catch (const YAML::Exception& e) {
    throw SpecSyntaxError(ToSourceMark(e.mark), "syntax error: " + e.msg);
  }
}

}  // namespace hollerith
