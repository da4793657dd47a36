// SPDX-License-Identifier: Apache-2.0
//
// Terms of a text for lexical retrieval (bm25.hpp) and hashed embeddings (embedding.hpp).
//
// Contract: lower-cased ASCII letters and digits make words, every byte >= 0x80 is kept as
// part of a word (so UTF-8 names such as "Coll d'Ordino" or "Göteborg" stay whole and are
// compared byte for byte); everything else separates. A number followed by "k" or "km" is one
// term ("5 K", "5k", "5 km" → "5k"), because runners name distances that way. English stop
// words go; a light suffix stripper folds plurals and -ing/-ed forms ("intervals" →
// "interval", "running" → "run"), and a few running synonyms fold to one term ("tempo" →
// "threshold", "jog" → "run", "lsd" → "long"). Trade-off: no full stemmer (Snowball would add
// a library for little gain on short, domain-bound texts).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stride::engine::retrieval {

// The terms of `text`, in order (repeats kept: term frequency matters).
std::vector<std::string> Terms(std::string_view text);

// The words of `text` lower-cased, without stop-word removal or folding (for phrase matching
// of place names and for the question parser).
std::vector<std::string> Words(std::string_view text);

// True for an English stop word ("the", "my", "did", ...).
bool IsStopWord(std::string_view word);

}  // namespace stride::engine::retrieval
