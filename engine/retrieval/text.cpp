// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace stride::engine::retrieval {
namespace {

bool WordByte(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

// Sorted, for binary search.
constexpr std::array<std::string_view, 76> kStop = {
    "a",    "about", "after", "all",   "am",    "an",     "and",    "any",  "are",  "as",    "at",
    "be",   "been",  "but",   "by",    "can",   "could",  "did",    "do",   "does", "doing", "done",
    "for",  "from",  "go",    "goes",  "going", "got",    "had",    "has",  "have", "how",   "i",
    "if",   "in",    "into",  "is",    "it",    "its",    "just",   "me",   "mine", "my",    "now",
    "of",   "on",    "or",    "our",   "over",  "please", "should", "so",   "tell", "than",  "that",
    "the",  "their", "them",  "then",  "there", "these",  "they",   "this", "to",   "was",   "we",
    "were", "what",  "when",  "where", "which", "while",  "who",    "will", "with", "you"};

std::string Fold(std::string w) {
  // Irregular forms and synonyms first.
  static constexpr std::pair<std::string_view, std::string_view> kSame[] = {
      {"ran", "run"},         {"running", "run"},        {"runs", "run"},
      {"jog", "run"},         {"jogging", "run"},        {"jogged", "run"},
      {"tempo", "threshold"}, {"lsd", "long"},           {"longest", "long"},
      {"hills", "hill"},      {"hilly", "hill"},         {"kms", "km"},
      {"kilometers", "km"},   {"kilometres", "km"},      {"kilometer", "km"},
      {"kilometre", "km"},    {"intervals", "interval"}, {"felt", "feel"},
      {"feeling", "feel"},    {"hurt", "pain"},          {"hurts", "pain"},
      {"painful", "pain"},    {"sore", "pain"},          {"soreness", "pain"},
      {"shoes", "shoe"},      {"sneakers", "shoe"},      {"trainers", "shoe"},
      {"slept", "sleep"},     {"sleeping", "sleep"},     {"rested", "rest"},
      {"easier", "easy"},     {"faster", "fast"},        {"fastest", "fast"},
      {"slower", "slow"},     {"slowest", "slow"},       {"longer", "long"},
  };
  for (const auto& [from, to] : kSame) {
    if (w == from) return std::string(to);
  }
  auto ends = [&](std::string_view s) {
    return w.size() > s.size() + 2 && std::string_view(w).substr(w.size() - s.size()) == s;
  };
  if (ends("ies")) return w.substr(0, w.size() - 3) + "y";
  if (ends("ing")) {
    w.resize(w.size() - 3);
    if (w.size() > 2 && w[w.size() - 1] == w[w.size() - 2]) w.pop_back();  // "running"
    return w;
  }
  if (ends("ed") && !ends("eed")) {
    w.resize(w.size() - 2);
    if (w.size() > 2 && w[w.size() - 1] == w[w.size() - 2]) w.pop_back();
    return w;
  }
  if (ends("s") && !ends("ss") && !ends("us") && !ends("is")) w.pop_back();
  return w;
}

}  // namespace

bool IsStopWord(std::string_view word) {
  return std::binary_search(kStop.begin(), kStop.end(), word);
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !WordByte(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && WordByte(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      std::string w(text.substr(i, j - i));
      for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back(std::move(w));
    }
    i = j;
  }
  return out;
}

std::vector<std::string> Terms(std::string_view text) {
  const std::vector<std::string> words = Words(text);
  std::vector<std::string> out;
  out.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const bool number =
        std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (number && i + 1 < words.size() && (words[i + 1] == "k" || words[i + 1] == "km")) {
      out.push_back(w + "k");  // "5 K", "5 km"
      ++i;
      continue;
    }
    if (w.size() > 2 && w.back() == 'm' && w[w.size() - 2] == 'k' &&
        std::all_of(w.begin(), w.end() - 2, [](char c) { return c >= '0' && c <= '9'; })) {
      out.push_back(w.substr(0, w.size() - 1));  // "5km" → "5k"
      continue;
    }
    if (IsStopWord(w)) continue;
    out.push_back(Fold(w));
  }
  return out;
}

}  // namespace stride::engine::retrieval
