#include "common/spec/json.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hollerith {
namespace {

class JsonReader {
 public:
  JsonReader(std::string_view text, const SpecLimits& limits)
      : text_(text), builder_(limits, text.size()) {}

  DocTree Read() {
    State state = State::kValue;
    while (state != State::kDone) {
      SkipSpace();
      state = Step(state);
    }
    if (pos_ != text_.size()) Fail("unexpected text after the end of the JSON document");
    return builder_.Finish();
  }

 private:
  // What the reader expects next; the document is read by a loop over these, not by recursion.
  enum class State { kValue, kKeyOrClose, kValueOrClose, kKey, kAfterValue, kDone };

  State Step(State state) {
    switch (state) {
      case State::kValue:
        if (ReadValue()) return State::kAfterValue;
        return containers_.back() == '{' ? State::kKeyOrClose : State::kValueOrClose;
      case State::kKeyOrClose:
        if (Peek() == '}') return Close();
        ReadKey();
        return State::kValue;
      case State::kValueOrClose:
        if (Peek() == ']') return Close();
        return State::kValue;
      case State::kKey:
        ReadKey();
        return State::kValue;
      case State::kAfterValue:
        if (containers_.empty()) return State::kDone;
        return ReadSeparator();
      case State::kDone:
        break;
    }
    return State::kDone;
  }

  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  State Close() {
    ++pos_;
    containers_.pop_back();
    builder_.End();
    return State::kAfterValue;
  }

  State ReadSeparator() {
    const bool in_map = containers_.back() == '{';
    const char c = Peek();
    if (c == ',') {
      ++pos_;
      return in_map ? State::kKey : State::kValue;
    }
    if (c == (in_map ? '}' : ']')) return Close();
    FailUnexpected(in_map ? "',' or '}'" : "',' or ']'");
  }

  SourceMark Mark() const { return {line_, static_cast<int>(pos_ - line_start_) + 1}; }

  [[noreturn]] void Fail(const std::string& what) const {
    throw SpecSyntaxError(Mark(), "syntax error: " + what);
  }

  [[noreturn]] void FailUnexpected(const char* expected) const {
    if (pos_ >= text_.size()) Fail(std::string("unexpected end of input, expected ") + expected);
    Fail(std::string("unexpected character '") + text_[pos_] + "', expected " + expected);
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  // Reads one value at pos_. Returns true for a complete value (scalar, null), false if it
  // opened a container; then the caller continues with the container's contents.
  bool ReadValue() {
    if (pos_ >= text_.size()) FailUnexpected("a value");
    const SourceMark mark = Mark();
    switch (text_[pos_]) {
      case '{':
      case '[': {
        const char open = text_[pos_++];
        if (open == '{') {
          builder_.StartMap(mark);
        } else {
          builder_.StartSequence(mark);
        }
        containers_.push_back(open);
        return false;
      }
      case '"':
        builder_.Scalar(mark, ReadString());
        return true;
      case 't':
        ReadLiteral("true");
        builder_.Scalar(mark, "true");
        return true;
      case 'f':
        ReadLiteral("false");
        builder_.Scalar(mark, "false");
        return true;
      case 'n':
        ReadLiteral("null");
        builder_.Null(mark);
        return true;
      default:
        builder_.Scalar(mark, ReadNumber());
        return true;
    }
  }

  void ReadLiteral(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) FailUnexpected("a value");
    pos_ += word.size();
  }

  std::string_view ReadNumber() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      FailUnexpected("a value");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) FailUnexpected("a digit");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) FailUnexpected("a digit");
    }
    return text_.substr(start, pos_ - start);
  }

  // Reads a string starting at the opening quote. Returns a view of the text when it has no
  // escapes, else of an internal buffer (valid until the next call).
  std::string_view ReadString() {
    const size_t start = ++pos_;
    while (pos_ < text_.size()) {
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') return text_.substr(start, pos_++ - start);
      if (c == '\\') break;
      if (c < 0x20) Fail("control character in string (escape it)");
      ++pos_;
    }
    buffer_.assign(text_.substr(start, pos_ - start));
    while (true) {
      if (pos_ >= text_.size()) Fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return buffer_;
      }
      if (c < 0x20) Fail("control character in string (escape it)");
      if (c != '\\') {
        buffer_.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      ReadEscape();
    }
  }

  void ReadEscape() {
    ++pos_;  // the backslash
    if (pos_ >= text_.size()) Fail("unterminated string");
    const char e = text_[pos_++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        buffer_.push_back(e);
        return;
      case 'b':
        buffer_.push_back('\b');
        return;
      case 'f':
        buffer_.push_back('\f');
        return;
      case 'n':
        buffer_.push_back('\n');
        return;
      case 'r':
        buffer_.push_back('\r');
        return;
      case 't':
        buffer_.push_back('\t');
        return;
      case 'u':
        AppendUtf8(ReadCodePoint());
        return;
      default:
        pos_ -= 2;  // point at the backslash
        Fail(std::string("bad escape '\\") + e + "'");
    }
  }

  uint32_t ReadHex4() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (pos_ >= text_.size()) Fail("unterminated string");
      const char c = text_[pos_];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        Fail("bad \\u escape (expected 4 hex digits)");
      }
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  uint32_t ReadCodePoint() {
    const uint32_t u = ReadHex4();
    if (u == 0) Fail("\\u0000 is not allowed");
    if (u >= 0xDC00 && u <= 0xDFFF) Fail("unpaired surrogate in \\u escape");
    if (u < 0xD800 || u > 0xDBFF) return u;
    if (text_.substr(pos_, 2) != "\\u") Fail("unpaired surrogate in \\u escape");
    pos_ += 2;
    const uint32_t low = ReadHex4();
    if (low < 0xDC00 || low > 0xDFFF) Fail("unpaired surrogate in \\u escape");
    return 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
  }

  void AppendUtf8(uint32_t cp) {
    if (cp < 0x80) {
      buffer_.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      buffer_.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      buffer_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      buffer_.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      buffer_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      buffer_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      buffer_.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      buffer_.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      buffer_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      buffer_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  void ReadKey() {
    if (pos_ >= text_.size() || text_[pos_] != '"') FailUnexpected("'\"' to start a key");
    const SourceMark mark = Mark();
    builder_.Scalar(mark, ReadString());
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != ':') FailUnexpected("':' after the key");
    ++pos_;
  }

  const std::string_view text_;
  DocTreeBuilder builder_;
  std::vector<char> containers_;  // '{' or '[' for each open container
  std::string buffer_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace

DocTree ReadJsonDocument(std::string_view text, const SpecLimits& limits) {
  return JsonReader(text, limits).Read();
}

}  // namespace hollerith
