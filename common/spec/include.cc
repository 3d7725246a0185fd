#include "common/spec/include.h"

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "common/spec/quantities.h"

namespace hollerith {
namespace {

std::string_view KeyText(const DocTree& doc, const DocNode& key) {
  return key.kind == DocKind::kScalar ? doc.scalar(key) : std::string_view();
}

SourceMark Mark(const DocNode& n, int file) {
  SourceMark m = n.mark();
  m.file = file;
  return m;
}

const DocNode* FindKey(const DocTree& doc, const DocNode& map, std::string_view name) {
  for (uint32_t i = 0; map.kind == DocKind::kMap && i < map.size; i += 2) {
    if (KeyText(doc, doc.child(map, i)) == name) return &doc.child(map, i + 1);
  }
  return nullptr;
}

struct Part {
  const DocTree* doc;
  int file;
};

class Includer {
 public:
  Includer(const SpecFileReader& read, const SpecDocumentReader& parse, const SpecLimits& limits,
           std::vector<std::string>* files)
      : read_(read), parse_(parse), limits_(limits), files_(*files) {}

  DocTree Run(const DocTree& main) {
    parts_.push_back({&main, 0});
    std::vector<std::string> chain = {files_[0]};
    Visit(main, 0, chain);
    return Merge(main);
  }

 private:
  void Visit(const DocTree& doc, int file, std::vector<std::string>& chain) {
    const DocNode& root = doc.root();
    if (root.kind != DocKind::kMap) {
      if (file == 0) return;  // the schema says what the spec must be
      throw SpecError(Mark(root, file),
                      "an included file must be a map of 'templates' and 'stacks'");
    }
    for (uint32_t i = 0; i < root.size; i += 2) {
      const DocNode& key = doc.child(root, i);
      const std::string_view name = KeyText(doc, key);
      if (file != 0 && name != "include" && name != "templates" && name != "stacks") {
        throw SpecError(Mark(key, file),
                        "an included file may hold only 'include', 'templates' "
                        "and 'stacks', not " +
                            QuoteForMessage(name));
      }
      if (name == "include") Include(doc, doc.child(root, i + 1), file, chain);
    }
  }

  void Include(const DocTree& doc, const DocNode& list, int file, std::vector<std::string>& chain) {
    if (list.kind != DocKind::kSequence) {
      throw SpecError(Mark(list, file), "'include' must be a list of spec files");
    }
    for (uint32_t i = 0; i < list.size; ++i) {
      const DocNode& item = doc.child(list, i);
      if (item.kind != DocKind::kScalar || item.size == 0) {
        throw SpecError(Mark(item, file), "each entry of 'include' must be a file's path");
      }
      const std::string path = IncludePath(files_[file], doc.scalar(item));
      for (const std::string& open : chain) {
        if (open != path) continue;
        std::string cycle;
        for (const std::string& c : chain) cycle += c + " -> ";
        throw SpecError(Mark(item, file), "include cycle: " + cycle + path);
      }
      if (static_cast<int>(chain.size()) > kMaxIncludeDepth) {
        throw SpecError(Mark(item, file),
                        "includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
      }
      if (loaded_.contains(path)) continue;  // a file is included once, however often named
      if (files_.size() > kMaxIncludedFiles) {
        throw SpecError(Mark(item, file),
                        "more than " + std::to_string(kMaxIncludedFiles) + " included files");
      }
      Result<std::string> text = read_(path);
      if (!text.ok()) {
        throw SpecError(Mark(item, file),
                        "cannot include " + QuoteForMessage(path) + ": " + text.message());
      }
      bytes_ += text->size();
      if (bytes_ > limits_.max_file_bytes) {
        throw SpecError(Mark(item, file), "the spec and its includes are more than " +
                                              std::to_string(limits_.max_file_bytes) + " bytes");
      }
      const int index = static_cast<int>(files_.size());
      files_.push_back(path);
      loaded_.insert(path);
      try {
        docs_.push_back(parse_(*text));
      } catch (const SpecError& e) {
        throw SpecError(SourceMark{e.mark.line, e.mark.column, index}, e.what());
      }
      parts_.push_back({&docs_.back(), index});
      chain.push_back(path);
      Visit(docs_.back(), index, chain);
      chain.pop_back();
    }
  }

  DocTree Merge(const DocTree& main) {
    size_t nodes = 0, bytes = 0;
    for (const Part& p : parts_) Count(*p.doc, p.doc->root(), nodes, bytes);
    builder_.emplace(limits_, DocTreeBuilder::Reserve{nodes + 8, bytes});
    const DocNode& root = main.root();
    builder_->StartMap(root.mark());
    bool stacks = false, templates = false;
    for (uint32_t i = 0; i < root.size; i += 2) {
      const DocNode& key = main.child(root, i);
      const DocNode& value = main.child(root, i + 1);
      const std::string_view name = KeyText(main, key);
      if (name == "include") continue;
      Copy(main, key, 0);
      if ((name == "stacks" || name == "templates") && value.kind == DocKind::kMap) {
        (name == "stacks" ? stacks : templates) = true;
        Joined(name, value.mark());
      } else {
        Copy(main, value, 0);
      }
    }
    for (const char* name : {"templates", "stacks"}) {
      if ((name == std::string_view("stacks") ? stacks : templates) || !AnyPartHas(name)) continue;
      builder_->Scalar(root.mark(), name);
      Joined(name, root.mark());
    }
    builder_->End();
    return builder_->Finish();
  }

  bool AnyPartHas(std::string_view name) const {
    for (const Part& p : parts_) {
      if (p.file != 0 && FindKey(*p.doc, p.doc->root(), name)) return true;
    }
    return false;
  }

  // The entries of `name` (stacks or templates) of every file, the including file's first.
  void Joined(std::string_view name, SourceMark at) {
    builder_->StartMap(at);
    std::map<std::string, SourceMark, std::less<>> first;
    const std::string what = name == "stacks" ? "stack id " : "template ";
    for (const Part& p : parts_) {
      const DocTree& doc = *p.doc;
      const DocNode* map = FindKey(doc, doc.root(), name);
      if (!map) continue;
      if (map->kind != DocKind::kMap) {
        throw SpecError(Mark(*map, p.file), "'" + std::string(name) + "' must be a map");
      }
      for (uint32_t i = 0; i < map->size; i += 2) {
        const DocNode& key = doc.child(*map, i);
        const SourceMark mark = Mark(key, p.file);
        const auto [it, added] = first.emplace(std::string(KeyText(doc, key)), mark);
        if (!added && it->second.file != p.file) {  // in one file, the schema says it
          throw SpecError(mark, "duplicate " + what + QuoteForMessage(it->first) + " (first in " +
                                    Where(it->second) + ")");
        }
        Copy(doc, key, p.file);
        Copy(doc, doc.child(*map, i + 1), p.file);
      }
    }
    builder_->End();
  }

  std::string Where(SourceMark m) const {
    return files_[m.file] + ":" + std::to_string(m.line) + ":" + std::to_string(m.column);
  }

  void Count(const DocTree& doc, const DocNode& n, size_t& nodes, size_t& bytes) const {
    ++nodes;
    if (n.kind == DocKind::kScalar) bytes += n.size;
    if (n.kind != DocKind::kMap && n.kind != DocKind::kSequence) return;
    for (uint32_t i = 0; i < n.size; ++i) Count(doc, doc.child(n, i), nodes, bytes);
  }

  void Copy(const DocTree& doc, const DocNode& n, int file) {
    const SourceMark mark = Mark(n, file);
    switch (n.kind) {
      case DocKind::kNull:
        builder_->Null(mark);
        return;
      case DocKind::kScalar:
        builder_->Scalar(mark, doc.scalar(n));
        return;
      case DocKind::kSequence:
      case DocKind::kMap:
        if (n.kind == DocKind::kMap) {
          builder_->StartMap(mark);
        } else {
          builder_->StartSequence(mark);
        }
        for (uint32_t i = 0; i < n.size; ++i) Copy(doc, doc.child(n, i), file);
        builder_->End();
        return;
    }
  }

  const SpecFileReader& read_;
  const SpecDocumentReader& parse_;
  const SpecLimits& limits_;
  std::vector<std::string>& files_;  // file 0 (the including file), then those it includes
  std::set<std::string> loaded_;
  std::deque<DocTree> docs_;  // the included files' documents (stable addresses)
  std::vector<Part> parts_;
  size_t bytes_ = 0;
  std::optional<DocTreeBuilder> builder_;
};

}  // namespace

bool HasIncludes(const DocTree& doc) { return FindKey(doc, doc.root(), "include") != nullptr; }

std::string IncludePath(const std::string& including, std::string_view path) {
  std::string joined(path);
  if (!path.starts_with('/')) {
    const size_t slash = including.rfind('/');
    if (slash != std::string::npos) joined = including.substr(0, slash + 1) + joined;
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    const std::string part = joined.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != ".." && !parts.back().empty()) {
        parts.pop_back();
      } else {
        parts.push_back(part);
      }
    } else if (part != "." && !(part.empty() && !parts.empty())) {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

DocTree MergeIncludes(const DocTree& doc, const SpecFileReader& read,
                      const SpecDocumentReader& parse, const SpecLimits& limits,
                      std::vector<std::string>* files) {
  return Includer(read, parse, limits, files).Run(doc);
}

}  // namespace hollerith
