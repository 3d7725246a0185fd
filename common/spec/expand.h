// Expansion: the step between reading a spec's document and its schema. It applies the job's
// `templates:` to the stacks that use them, writes out every `matrix:` stack as one stack per
// combination (matrix.h), substitutes `${{ matrix.KEY }}` and `${{ params.NAME }}` in the values
// of stacks and of the combine card (substitution.h), and turns references to a matrix stack by
// its base name into references to every instance (a fan-in): `after: [build.compile]` lists
// every build-* instance's card; `inputs: [build.compile:out.txt]` becomes one
// `{from: INSTANCE.compile:out.txt, dest: INSTANCE/out.txt}` per instance. Every node keeps the
// mark of the text it came from, so the schema's errors still point at the line the user wrote.
// The result is an ordinary document: everything after the schema sees ordinary stacks.
#pragma once

#include <cstddef>

#include "common/spec/document.h"

namespace hollerith {

// False when the document has no templates, matrix, `uses` or `${{`: nothing to expand.
bool NeedsExpansion(const DocTree& doc);

// The expanded document. Throws SpecErrors (at most `max_errors` kept), one for each stack,
// template or combine card that could not be expanded, or SpecError. The expansion may make at
// most `limits.max_cards` cards, and a document no bigger than a spec file may be (counting six
// bytes for each value, about what one takes in a file).
DocTree ExpandDocument(const DocTree& doc, const SpecLimits& limits, size_t max_errors);

}  // namespace hollerith
