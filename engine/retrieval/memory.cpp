// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "engine/retrieval/text.hpp"
#include "engine/text/join.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::engine::retrieval {
namespace {

bool SaysRace(const std::vector<std::string>& terms) {
  return std::find(terms.begin(), terms.end(), "race") != terms.end();
}

// A run of the race's distance (any run that says "race" for "race").
bool IsRace(const Document& d, bool says_race, const std::string& race) {
  if (d.kind != DocKind::kRun || std::isnan(d.distance_m)) return false;
  if (race == "marathon") return d.distance_m >= 42000;
  if (race == "half marathon") return d.distance_m >= 20900 && d.distance_m <= 22000;
  return says_race;
}

// The words of a place name that must all be in the question (none: it cannot be matched).
std::vector<std::string> PlaceWords(const std::string& place) {
  std::vector<std::string> out;
  for (std::string& w : Words(place)) {
    if (w.size() >= 2 && !IsStopWord(w)) out.push_back(std::move(w));
  }
  return out;
}

double Pace(const Document& d) {
  return d.distance_m > 0 ? d.moving_s / d.distance_m : std::numeric_limits<double>::quiet_NaN();
}

double EffortTime(const Document& d, double m) {
  for (const auto& [dist, t] : d.efforts) {
    if (std::fabs(dist - m) <= 0.01 * m) return t;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

Status Memory::Put(std::vector<Document> docs) {
  if (docs.empty()) return Status::Ok();
  std::vector<std::string> texts;
  texts.reserve(docs.size());
  for (const Document& d : docs) texts.push_back(d.text);
  STRIDE_ASSIGN_OR_RETURN(std::vector<std::vector<float>> vectors, embedder_->Embed(texts));
  if (vectors.size() != docs.size()) {
    return Status::Internal("embedder " + embedder_->Name() + " gave " +
                            std::to_string(vectors.size()) + " vectors for " +
                            std::to_string(docs.size()) + " texts");
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    uint32_t slot = 0;
    auto it = by_id_.find(docs[i].id);
    if (it != by_id_.end()) {
      slot = it->second;
    } else if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    if (slots_[slot]) Unindex(*slots_[slot]);
    by_id_[docs[i].id] = slot;
    const std::vector<std::string> terms = Terms(docs[i].text);
    bm25_.Put(slot, terms);
    vectors_->Put(slot, vectors[i]);
    if (says_race_.size() < slots_.size()) says_race_.resize(slots_.size());
    says_race_[slot] = SaysRace(terms);
    if (docs[i].kind == DocKind::kRun) {
      for (const std::string& p : docs[i].places) ++places_[p];
    }
    slots_[slot] = std::move(docs[i]);
  }
  return Status::Ok();
}

bool Memory::Remove(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  const uint32_t slot = it->second;
  bm25_.Remove(slot);
  vectors_->Remove(slot);
  Unindex(*slots_[slot]);
  slots_[slot].reset();
  free_.push_back(slot);
  by_id_.erase(it);
  return true;
}

void Memory::Unindex(const Document& d) {
  if (d.kind != DocKind::kRun) return;
  for (const std::string& p : d.places) {
    auto it = places_.find(p);
    if (it != places_.end() && --it->second == 0) places_.erase(it);
  }
}

const Document* Memory::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &*slots_[it->second];
}

std::vector<const Document*> Memory::All() const {
  std::vector<const Document*> out;
  for (const std::optional<Document>& d : slots_) {
    if (d) out.push_back(&*d);
  }
  return out;
}

size_t Memory::MemoryBytes() const {
  size_t bytes = bm25_.MemoryBytes() + vectors_->MemoryBytes() +
                 slots_.capacity() * sizeof(std::optional<Document>) + by_id_.size() * 64;
  for (const std::optional<Document>& d : slots_) {
    if (!d) continue;
    bytes += d->text.capacity() + d->id.capacity() + d->efforts.capacity() * 16;
    for (const std::string& p : d->places) bytes += sizeof(p) + p.capacity();
  }
  return bytes;
}

std::vector<const Document*> Memory::Structured(const Question& q, int64_t today,
                                                int64_t* race_day) const {
  const DocKind kind = q.kind.value_or(DocKind::kRun);
  // Place names the question holds every word of (the longest such names win).
  std::set<std::string> places;
  size_t best_words = 0;
  for (const auto& [p, runs] : places_) {
    const std::vector<std::string> pw = PlaceWords(p);
    if (pw.empty()) continue;
    const bool all = std::all_of(pw.begin(), pw.end(), [&](const std::string& x) {
      return std::find(q.words.begin(), q.words.end(), x) != q.words.end();
    });
    if (!all || pw.size() < best_words) continue;
    if (pw.size() > best_words) places.clear();
    best_words = pw.size();
    places.insert(p);
  }
  if (!q.Structured() && places.empty()) return {};
  const DocKind want = places.empty() ? kind : DocKind::kRun;

  int64_t from = q.from_day, to = q.to_day;
  if (!q.since_race.empty()) {
    // The latest run of the distance that says "race"; without one, the latest of the
    // distance (a long run of 21 km is no half marathon when races are named).
    int64_t race = kNoDay, any = kNoDay;
    for (size_t slot = 0; slot < slots_.size(); ++slot) {
      const std::optional<Document>& d = slots_[slot];
      if (!d || d->day >= today || !IsRace(*d, says_race_[slot], q.since_race)) continue;
      any = std::max(any, d->day);
      if (says_race_[slot]) race = std::max(race, d->day);
    }
    if (race == kNoDay) race = any;
    if (race == kNoDay) return {};
    *race_day = race;
    from = race + 1;
  }
  std::vector<const Document*> out;
  for (const std::optional<Document>& d : slots_) {
    if (!d || d->kind != want) continue;
    if (from != kNoDay && d->day < from) continue;
    if (to != kNoDay && d->day > to) continue;
    if (!places.empty() && std::none_of(d->places.begin(), d->places.end(),
                                        [&](const auto& p) { return places.count(p) > 0; })) {
      continue;
    }
    out.push_back(&*d);
  }
  auto newest = [](const Document* a, const Document* b) {
    return a->day > b->day || (a->day == b->day && (a->start_s > b->start_s ||
                                                    (a->start_s == b->start_s && a->id < b->id)));
  };
  // NaN keys sort last whatever the direction.
  auto by = [&](auto key, bool descending) {
    std::stable_sort(out.begin(), out.end(), [&](const Document* a, const Document* b) {
      const double x = key(*a), y = key(*b);
      if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
      if (!std::isnan(x) && x != y) return descending ? x > y : x < y;
      return newest(a, b);
    });
  };
  const bool effort =
      !std::isnan(q.effort_m) && (q.order == Order::kFastest || q.order == Order::kSlowest);
  if (effort) {
    // The best effort at the distance when runs carry it; else runs at least that long.
    const double m = q.effort_m;
    if (std::any_of(out.begin(), out.end(),
                    [&](const Document* d) { return !std::isnan(EffortTime(*d, m)); })) {
      out.erase(std::remove_if(out.begin(), out.end(),
                               [&](const Document* d) { return std::isnan(EffortTime(*d, m)); }),
                out.end());
      by([&](const Document& d) { return EffortTime(d, m); }, q.order == Order::kSlowest);
      return out;
    }
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const Document* d) { return !(d->distance_m >= 0.98 * m); }),
              out.end());
  }
  switch (q.order) {
    case Order::kLongest:
      by([](const Document& d) { return d.distance_m; }, true);
      break;
    case Order::kShortest:
      by([](const Document& d) { return d.distance_m; }, false);
      break;
    case Order::kFastest:
      by(Pace, false);
      break;
    case Order::kSlowest:
      by(Pace, true);
      break;
    case Order::kMostClimb:
      by([](const Document& d) { return d.climb_m; }, true);
      break;
    case Order::kLatest:
    case Order::kNone:
      if (want == DocKind::kPlanDay) {
        std::stable_sort(out.begin(), out.end(), [&](const Document* a, const Document* b) {
          const int64_t x = a->day >= today ? a->day - today : 2 * (today - a->day) + 1;
          const int64_t y = b->day >= today ? b->day - today : 2 * (today - b->day) + 1;
          return x < y;
        });
      } else {
        std::sort(out.begin(), out.end(), newest);
      }
      break;
  }
  return out;
}

Result<Retrieval> Memory::Retrieve(std::string_view question, int64_t today,
                                   const RetrieveOptions& o) const {
  Retrieval r;
  r.question = ParseQuestion(question, today);
  const std::vector<std::string> terms = Terms(question);
  std::vector<Scored> lists[3];
  if (o.bm25) lists[0] = bm25_.Search(terms, o.depth);
  if (o.vectors && vectors_->size() > 0) {
    STRIDE_ASSIGN_OR_RETURN(std::vector<std::vector<float>> q,
                            embedder_->Embed({std::string(question)}));
    if (q.size() != 1) return Status::Internal("embedder gave no vector for the question");
    lists[1] = vectors_->Search(q[0], o.depth);
  }
  if (o.structured) {
    r.selection = Structured(r.question, today, &r.race_day);
    for (size_t i = 0; i < r.selection.size() && i < o.depth; ++i) {
      lists[2].push_back({by_id_.at(r.selection[i]->id), 0});
    }
  }
  // Hard filters first: a date range the question named, and the kind when it asked about
  // what was said or planned, hold for the word and meaning lists too.
  const Question& q = r.question;
  const bool by_kind = q.kind == DocKind::kMessage || q.kind == DocKind::kPlanDay;
  const int64_t from = r.race_day != kNoDay ? r.race_day + 1 : q.from_day;
  const bool by_date = (q.HasDates() && q.since_race.empty()) || r.race_day != kNoDay;
  auto keep = [&](uint32_t slot) {
    const Document& d = *slots_[slot];
    if (by_kind && d.kind != *q.kind) return false;
    if (by_date && ((from != kNoDay && d.day < from) || (q.to_day != kNoDay && d.day > q.to_day))) {
      return false;
    }
    return true;
  };
  std::unordered_map<uint32_t, Hit> fused;
  std::unordered_map<uint32_t, double> cosine;
  for (int m = 0; m < 3; ++m) {
    const double weight = m < 2                     ? 1.0
                          : q.order != Order::kNone ? o.ordered_weight
                                                    : o.structured_weight;
    std::vector<Scored>& list = lists[m];
    if (m < 2 && (by_kind || by_date)) {
      list.erase(
          std::remove_if(list.begin(), list.end(), [&](const Scored& x) { return !keep(x.slot); }),
          list.end());
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const uint32_t slot = list[i].slot;
      Hit& h = fused[slot];
      h.doc = &*slots_[slot];
      h.rank[m] = static_cast<int>(i + 1);
      h.score += weight / (o.rrf_k + static_cast<double>(i + 1));
      if (m == 1) cosine[slot] = list[i].score;
    }
  }
  // An ordered question's first in the structured order is its answer: it goes first.
  const Document* answer =
      q.order != Order::kNone && !r.selection.empty() ? r.selection[0] : nullptr;
  std::vector<std::pair<uint32_t, Hit>> all(fused.begin(), fused.end());
  std::sort(all.begin(), all.end(), [answer](const auto& a, const auto& b) {
    if ((a.second.doc == answer) != (b.second.doc == answer)) return a.second.doc == answer;
    if (a.second.score != b.second.score) return a.second.score > b.second.score;
    return a.second.doc->id < b.second.doc->id;
  });
  if (all.size() > o.k) all.resize(o.k);
  std::string understood;
  if (!r.selection.empty()) {
    understood = std::string(DocKindName(r.question.kind.value_or(DocKind::kRun))) + "s";
    if (!r.question.date_phrase.empty()) understood += " " + r.question.date_phrase;
    if (r.race_day != kNoDay) understood += " (race on " + FormatDate(r.race_day) + ")";
    if (r.question.order != Order::kNone) {
      understood += ", " + std::string(OrderName(r.question.order));
      if (!std::isnan(r.question.effort_m)) {
        char m[32];
        std::snprintf(m, sizeof m, " at %.0f m", r.question.effort_m);
        understood += m;
      }
    }
  }
  for (auto& [slot, h] : all) {
    std::string why;
    auto add = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
    if (h.rank[0] > 0) {
      add("words #" + std::to_string(h.rank[0]) + " (" + Join(bm25_.Matched(slot, terms)) + ")");
    }
    if (h.rank[1] > 0) {
      char c[64];
      std::snprintf(c, sizeof c, "meaning #%d (cosine %.2f)", h.rank[1], cosine[slot]);
      add(c);
    }
    if (h.rank[2] > 0) add("question #" + std::to_string(h.rank[2]) + " (" + understood + ")");
    h.why = std::move(why);
    r.hits.push_back(std::move(h));
  }
  return r;
}

}  // namespace stride::engine::retrieval
