// Writes a document tree back out as spec text (YAML or JSON) that reads back to the same tree:
// what `hollerith validate --expand` prints. Every value is written as a string (the readers
// make no difference between 1 and "1"), and `${{` in values as `$${{`, so that reading the text
// does not substitute again.
#pragma once

#include <string>

#include "common/spec/document.h"

namespace hollerith {

std::string WriteDocumentYaml(const DocTree& doc);
// Without `escape_substitutions`, `${{` is written as it is: for a document not expanded yet
// (a spec with its includes merged in, which the coordinator expands itself).
std::string WriteDocumentJson(const DocTree& doc, bool escape_substitutions = true);

}  // namespace hollerith
