#include "common/spec/doc_writer.h"

#include <cstdio>
#include <string_view>

#include "common/spec/substitution.h"

namespace hollerith {
namespace {

// `s` as a JSON string, which is also a YAML double-quoted scalar.
void AppendQuoted(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// True if YAML reads `s` written plain (unquoted) back as the same string: letters, digits and
// a few punctuation marks that mean nothing to YAML there, not a word YAML reads as null.
bool PlainInYaml(std::string_view s) {
  if (s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "~") return false;
  const char first = s.front();
  if (!(std::isalnum(static_cast<unsigned char>(first)) || first == '_' || first == '/' ||
        first == '.')) {
    return false;
  }
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == '/' || c == '+' || c == '=' || c == ':')) {
      return false;
    }
  }
  return s.back() != ':';
}

class Writer {
 public:
  Writer(const DocTree& doc, bool escape) : doc_(doc), escape_(escape) {}

  std::string Yaml() {
    const DocNode& root = doc_.root();
    if (root.kind == DocKind::kMap && root.size > 0) {
      YamlMapEntries(root, 0);
    } else {
      YamlInline(root, false);
      out_ += '\n';
    }
    return std::move(out_);
  }

  std::string Json() {
    JsonValue(doc_.root(), 0, false);
    out_ += '\n';
    return std::move(out_);
  }

 private:
  void Scalar(const DocNode& n, bool is_key, bool yaml) {
    const std::string_view raw = doc_.scalar(n);
    std::string escaped;
    std::string_view text = raw;
    if (escape_ && !is_key && HasSubstitution(raw)) {
      escaped = EscapeSubstitutions(raw);
      text = escaped;
    }
    if (yaml && PlainInYaml(text)) {
      out_ += text;
    } else {
      AppendQuoted(text, out_);
    }
  }

  static bool IsEmptyContainer(const DocNode& n) {
    return (n.kind == DocKind::kMap || n.kind == DocKind::kSequence) && n.size == 0;
  }

  // A null, scalar or empty container on the current line.
  void YamlInline(const DocNode& n, bool is_key) {
    switch (n.kind) {
      case DocKind::kNull:
        out_ += "null";
        return;
      case DocKind::kScalar:
        Scalar(n, is_key, true);
        return;
      case DocKind::kSequence:
        out_ += "[]";
        return;
      case DocKind::kMap:
        out_ += "{}";
        return;
    }
  }

  void Indent(int depth) { out_.append(static_cast<size_t>(depth) * 2, ' '); }

  // The value after "key:" or "- ": inline, or on the next lines one level deeper.
  void YamlValue(const DocNode& n, int depth) {
    if (n.kind == DocKind::kMap && n.size > 0) {
      out_ += '\n';
      YamlMapEntries(n, depth);
    } else if (n.kind == DocKind::kSequence && n.size > 0) {
      out_ += '\n';
      YamlSequenceItems(n, depth);
    } else {
      out_ += ' ';
      YamlInline(n, false);
      out_ += '\n';
    }
  }

  void YamlMapEntries(const DocNode& map, int depth) {
    for (uint32_t i = 0; i < map.size; i += 2) {
      Indent(depth);
      YamlInline(doc_.child(map, i), true);
      out_ += ':';
      YamlValue(doc_.child(map, i + 1), depth + 1);
    }
  }

  void YamlSequenceItems(const DocNode& seq, int depth) {
    for (uint32_t i = 0; i < seq.size; ++i) {
      const DocNode& item = doc_.child(seq, i);
      Indent(depth);
      out_ += '-';
      if (item.kind == DocKind::kMap && item.size > 0) {
        // "- key: value" with the map's other entries aligned under the first.
        out_ += ' ';
        const size_t at = out_.size();
        YamlMapEntries(item, depth + 1);
        out_.erase(at, static_cast<size_t>(depth + 1) * 2);
      } else {
        YamlValue(item, depth + 1);
      }
    }
  }

  void JsonValue(const DocNode& n, int depth, bool is_key) {
    switch (n.kind) {
      case DocKind::kNull:
        out_ += "null";
        return;
      case DocKind::kScalar:
        Scalar(n, is_key, false);
        return;
      case DocKind::kSequence:
      case DocKind::kMap:
        break;
    }
    const bool map = n.kind == DocKind::kMap;
    if (IsEmptyContainer(n)) {
      out_ += map ? "{}" : "[]";
      return;
    }
    out_ += map ? '{' : '[';
    const uint32_t step = map ? 2 : 1;
    for (uint32_t i = 0; i < n.size; i += step) {
      out_ += i == 0 ? "\n" : ",\n";
      Indent(depth + 1);
      if (map) {
        JsonValue(doc_.child(n, i), depth + 1, true);
        out_ += ": ";
        JsonValue(doc_.child(n, i + 1), depth + 1, false);
      } else {
        JsonValue(doc_.child(n, i), depth + 1, false);
      }
    }
    out_ += '\n';
    Indent(depth);
    out_ += map ? '}' : ']';
  }

  const DocTree& doc_;
  const bool escape_;
  std::string out_;
};

}  // namespace

std::string WriteDocumentYaml(const DocTree& doc) { return Writer(doc, true).Yaml(); }
std::string WriteDocumentJson(const DocTree& doc, bool escape_substitutions) {
  return Writer(doc, escape_substitutions).Json();
}

}  // namespace hollerith
