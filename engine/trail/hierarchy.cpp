// SPDX-License-Identifier: Apache-2.0
#include "engine/trail/hierarchy.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/trail/workspace.hpp"

namespace stride::engine::trail {
namespace {

using namespace internal;  // the shared search state (workspace.hpp)

// An arc of the graph being contracted: to (or from, in an in-list) `node`.
struct DynArc {
  uint32_t node;
  uint32_t via;
  double cost;
};

// Keeps the cheapest arc per neighbour.
void AddOrLower(std::vector<DynArc>& list, uint32_t node, double cost, uint32_t via) {
  for (DynArc& a : list) {
    if (a.node == node) {
      if (cost < a.cost) a.cost = cost, a.via = via;
      return;
    }
  }
  list.push_back({node, via, cost});
}

void Erase(std::vector<DynArc>& list, uint32_t node) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].node == node) {
      list[i] = list.back();
      list.pop_back();
      return;
    }
  }
}

// A shortcut contracting a node needs: from its in-neighbour to its out-neighbour.
struct Shortcut {
  uint32_t from, to;
  double cost;
};

// One witness search's state, reused from search to search (90 % of a build is in these
// searches: the heap and the labels are kept, and a label is one 16-byte slot). Each thread
// of a contraction has its own.
struct Search {
  // Ordered as the MinQueue of the searches (cost, then node), so a build is the same.
  struct HeapEntry {
    double g;
    uint32_t v;
    bool operator>(const HeapEntry& o) const { return g > o.g || (g == o.g && v > o.v); }
  };
  struct Label {
    double g;
    uint32_t stamp;  // == label_gen: g is this witness search's
  };
  explicit Search(uint32_t n) : label(n, Label{0, 0}), target(n, 0) {}

  // The search's cost of v; infinite when this search has not reached it.
  double G(uint32_t v) const {
    return label[v].stamp == label_gen ? label[v].g : std::numeric_limits<double>::infinity();
  }
  void SetG(uint32_t v, double g) { label[v] = {g, label_gen}; }
  void Push(HeapEntry e) {
    heap.push_back(e);
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  }

  std::vector<Label> label;
  uint32_t label_gen = 0;
  std::vector<uint32_t> target;  // == target_gen: a target of the current search
  uint32_t target_gen = 0;
  std::vector<HeapEntry> heap;
  // A share of one node's shortcuts (Contractor::Share): each with the index of the in-arc
  // whose search found it, in increasing order.
  std::vector<Shortcut> found;
  std::vector<uint32_t> found_in;
  size_t searched = 0;  // in that share
};

// A second thread that may run `work` each time Post() is called. Finish() says whether it
// did: when the helper has not started the work by then (it was asleep, or had no core on a
// busy machine), the work is taken back and Finish returns false at once, so the poster,
// which shares the work out through its own counter and takes what is left itself, never
// waits for a thread that is not running. Otherwise Finish waits for it to end, which is at
// most the one piece it is doing. The helper spins a while before it sleeps (a futex
// wake-up costs tens of microseconds on a busy machine, as much as the work shared).
class Helper {
 public:
  explicit Helper(std::function<void()> work)
      : work_(std::move(work)), thread_([this] { Loop(); }) {}
  ~Helper() {
    state_.store(kStop, std::memory_order_release);
    state_.notify_all();
    thread_.join();
  }
  Helper(const Helper&) = delete;
  Helper& operator=(const Helper&) = delete;

  // Not while work posted is not finished.
  void Post() {
    state_.store(kPosted, std::memory_order_release);
    state_.notify_one();
  }
  // True when the helper ran the work posted (it has ended); false when it was taken back.
  bool Finish() {
    uint32_t s = kPosted;
    if (state_.compare_exchange_strong(s, kIdle, std::memory_order_acq_rel)) return false;
    SpinUntil([&] { return state_.load(std::memory_order_acquire) == kDone; });
    while ((s = state_.load(std::memory_order_acquire)) != kDone) {
      state_.wait(s, std::memory_order_acquire);
    }
    state_.store(kIdle, std::memory_order_relaxed);
    return true;
  }

 private:
  static constexpr uint32_t kIdle = 0, kPosted = 1, kRunning = 2, kDone = 3, kStop = 4;

  // Spins until `ready` or kSpin has passed.
  template <typename Ready>
  static void SpinUntil(const Ready& ready) {
    constexpr auto kSpin = std::chrono::microseconds(50);
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0; !ready(); ++i) {
      if (i % 64 == 63 && std::chrono::steady_clock::now() > until) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }

  void Loop() {
    for (;;) {
      uint32_t s = state_.load(std::memory_order_acquire);
      if (s == kStop) return;
      if (s == kPosted) {
        if (state_.compare_exchange_strong(s, kRunning, std::memory_order_acq_rel)) {
          work_();
          state_.store(kDone, std::memory_order_release);
          state_.notify_one();
        }
        continue;
      }
      // Idle, or done and not yet seen: until that changes.
      SpinUntil([&] { return state_.load(std::memory_order_acquire) != s; });
      state_.wait(s, std::memory_order_acquire);
    }
  }

  std::function<void()> work_;
  std::atomic<uint32_t> state_{kIdle};
  std::thread thread_;  // last: it starts once the rest is built
};

class Contractor {
 public:
  Contractor(const TrailGraph& g, const HierarchyOptions& o)
      : o_(o), n_(g.nodes()), out_(n_), in_(n_), deleted_(n_, 0), pos_(n_, 0), pos_stamp_(n_, 0) {
    const FootOptions defaults;
    // Each list at its size (at most: parallel arcs merge), not grown by doubling: the lists
    // are what contraction holds, and their slack was a third of it.
    std::vector<uint32_t> in_degree(n_, 0);
    for (const Arc& a : g.arcs) ++in_degree[a.to];
    for (uint32_t v = 0; v < n_; ++v) {
      out_[v].reserve(g.first_arc[v + 1] - g.first_arc[v]);
      in_[v].reserve(in_degree[v]);
    }
    std::vector<uint32_t>().swap(in_degree);
    for (uint32_t v = 0; v < n_; ++v) {
      for (uint32_t ai = g.first_arc[v]; ai < g.first_arc[v + 1]; ++ai) {
        const Arc& a = g.arcs[ai];
        if (a.to == v) continue;  // a loop is never on a cheapest path
        const double c = EdgeCost(g.edges[a.edge()], a.backward(), defaults, true);
        AddOrLower(out_[v], a.to, c, Hierarchy::kViaArc | ai);
        AddOrLower(in_[a.to], v, c, Hierarchy::kViaArc | ai);
      }
    }
    searches_.emplace_back(n_);
    if (o_.threads > 1) {
      searches_.emplace_back(n_);
      helper_ = std::make_unique<Helper>([this] {
        if (job_all_) {
          FirstPriorities(searches_[1], &helper_scratch_);
        } else {
          Share(searches_[1], job_node_, job_settled_);
        }
      });
    }
    for (uint32_t v = 0; v < n_; ++v) arcs_left_ += out_[v].size();
  }

  Hierarchy Run(HierarchyStats* stats) {
    using Entry = std::pair<int64_t, uint32_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
    // A given order (HierarchyOptions::order): the nodes by key, `ordered_next` the next to
    // contract; no priorities. Else every node's first priority, the nodes shared out in
    // blocks with the helper, if any.
    std::vector<uint32_t> ordered;
    size_t ordered_next = 0;
    const bool given = !o_.order.empty();
    if (given) {
      ordered.resize(n_);
      std::iota(ordered.begin(), ordered.end(), uint32_t{0});
      std::stable_sort(ordered.begin(), ordered.end(),
                       [&](uint32_t a, uint32_t b) { return o_.order[a] < o_.order[b]; });
    } else {
      first_priority_.assign(n_, 0);
      next_block_.store(0, std::memory_order_relaxed);
      if (helper_) job_all_ = true, helper_->Post();
      FirstPriorities(searches_[0], &scratch_);
      if (helper_) helper_->Finish(), job_all_ = false;
      for (uint32_t v = 0; v < n_; ++v) queue.push({first_priority_[v], v});
      std::vector<int64_t>().swap(first_priority_);
    }
    // The next node to contract (false: none left), and putting it back when it is not.
    int64_t now = 0;
    auto next = [&](uint32_t* v) {
      if (given) {
        if (ordered_next == ordered.size()) return false;
        *v = ordered[ordered_next++];
        return true;
      }
      while (!queue.empty()) {
        *v = queue.top().second;  // each node has one entry in the queue
        queue.pop();
        now = Priority(*v);
        if (queue.empty() || now <= queue.top().first) return true;
        queue.push({now, *v});
      }
      return false;
    };
    auto put_back = [&](uint32_t v) {
      if (given) {
        --ordered_next;
      } else {
        queue.push({now, v});
      }
    };
    Hierarchy h;
    h.rank.assign(n_, 0);
    std::vector<std::vector<HierarchyArc>> up(n_), down(n_);
    uint32_t next_rank = 0;
    std::vector<Shortcut> shortcuts;
    size_t added = 0, max_degree = 0;
    size_t up_arcs = 0, down_arcs = 0;  // in up and down so far
    size_t added_at_check = 0;          // `added` when out_of_memory was last asked
    bool out_of_memory = false;
    for (uint32_t v; next(&v);) {
      if (o_.core_mean_degree > 0 &&
          static_cast<double>(arcs_left_) >
              o_.core_mean_degree * static_cast<double>(n_ - next_rank)) {
        put_back(v);
        break;  // what is left is the core
      }
      // Every 4,096 nodes, and after every million shortcuts (the dense top adds thousands
      // a node).
      if (o_.out_of_memory && (next_rank % 4096 == 0 || added - added_at_check > (1u << 20))) {
        added_at_check = added;
        // What flattening will allocate: every arc of up and down, those of the core included
        // (each of its nodes keeps its out- and in-arcs), and the index arrays.
        const size_t output = (up_arcs + down_arcs + 2 * arcs_left_) * sizeof(HierarchyArc) +
                              2 * (size_t{n_} + 1) * sizeof(uint32_t);
        if (o_.out_of_memory(output)) {
          put_back(v);
          out_of_memory = true;
          break;
        }
      }
      // Contract v.
      arcs_left_ -= out_[v].size() + in_[v].size();
      shortcuts.clear();
      Shortcuts(v, o_.witness_settled, &shortcuts);
      max_degree = std::max(max_degree, in_[v].size() + out_[v].size());
      h.rank[v] = next_rank++;
      Keep(v, &up[v], &down[v]);
      up_arcs += out_[v].size();
      down_arcs += in_[v].size();
      for (const DynArc& a : out_[v]) Erase(in_[a.node], v), ++deleted_[a.node];
      for (const DynArc& a : in_[v]) Erase(out_[a.node], v), ++deleted_[a.node];
      AddShortcuts(v, shortcuts);
      added += shortcuts.size();
      out_[v].clear();
      out_[v].shrink_to_fit();
      in_[v].clear();
      in_[v].shrink_to_fit();
      if (o_.progress && next_rank % 65536 == 0 && next_rank < n_) o_.progress(next_rank, n_);
    }
    // Contraction is over: its per-node working arrays (each thread's search labels and
    // targets, the neighbour positions, the deleted counts: 56 bytes a node with two threads,
    // 295 MB at 10^8 nodes) go before the arcs are flattened, where the peak is.
    helper_.reset();
    std::vector<Search>().swap(searches_);
    std::vector<uint32_t>().swap(pos_);
    std::vector<uint32_t>().swap(pos_stamp_);
    std::vector<int64_t>().swap(deleted_);
    // The core, ranked above the rest in node order: each node keeps all its arcs. They go from
    // its out_ and in_ lists straight into the final arrays: copied into up and down first, as
    // a contracted node's are, they were held twice at the peak (over a GiB the budget's
    // estimate did not count, for a large core at 10^8 nodes).
    h.core = n_ - next_rank;
    if (h.core != 0) {
      std::vector<uint32_t> core;
      core.reserve(h.core);
      while (!queue.empty()) core.push_back(queue.top().second), queue.pop();
      core.insert(core.end(), ordered.begin() + static_cast<std::ptrdiff_t>(ordered_next),
                  ordered.end());
      std::sort(core.begin(), core.end());
      for (const uint32_t v : core) {
        h.rank[v] = next_rank++;
        max_degree = std::max(max_degree, in_[v].size() + out_[v].size());
      }
    }
    // A contracted node's arcs are in `kept` (its out_ and in_ were emptied when it was
    // contracted), a core node's in `core_lists` (its up and down were never filled): each
    // node has arcs in at most one of the two.
    auto flatten = [&](std::vector<std::vector<HierarchyArc>>& kept,
                       std::vector<std::vector<DynArc>>& core_lists, std::vector<uint32_t>* first,
                       std::vector<HierarchyArc>* arcs) {
      first->assign(n_ + 1, 0);
      size_t total = 0;
      for (uint32_t v = 0; v < n_; ++v) total += kept[v].size() + core_lists[v].size();
      arcs->reserve(total);
      for (uint32_t v = 0; v < n_; ++v) {
        (*first)[v] = static_cast<uint32_t>(arcs->size());
        arcs->insert(arcs->end(), kept[v].begin(), kept[v].end());
        for (const DynArc& a : core_lists[v]) arcs->push_back({a.node, a.via, a.cost});
        std::vector<HierarchyArc>().swap(kept[v]);
        std::vector<DynArc>().swap(core_lists[v]);
      }
      (*first)[n_] = static_cast<uint32_t>(arcs->size());
    };
    flatten(up, out_, &h.up_first, &h.up);
    flatten(down, in_, &h.down_first, &h.down);
    if (o_.progress) o_.progress(n_, n_);  // done: the arcs are in their final arrays
    if (stats) {
      stats->shortcuts = added;
      stats->max_degree = max_degree;
      stats->up_arcs = h.up.size();
      stats->down_arcs = h.down.size();
      stats->core = h.core;
      stats->out_of_memory = out_of_memory;
      stats->shared = shared_;
      stats->ordered = given;
    }
    return h;
  }

 private:
  // v's arcs as they are when it is ranked (to the nodes still above it), into its up and down
  // lists.
  void Keep(uint32_t v, std::vector<HierarchyArc>* up, std::vector<HierarchyArc>* down) const {
    auto copy = [](const std::vector<DynArc>& from, std::vector<HierarchyArc>* to) {
      to->resize(from.size());
      for (size_t i = 0; i < from.size(); ++i) (*to)[i] = {from[i].node, from[i].via, from[i].cost};
    };
    copy(out_[v], up);
    copy(in_[v], down);
  }

  // Adds the shortcuts over v to the lists of their ends (the cheaper arc wins), grouped by
  // list, so that a node of degree d costs O(d) per list instead of O(d) per shortcut.
  void AddShortcuts(uint32_t v, std::vector<Shortcut>& shortcuts) {
    for (const bool outgoing : {true, false}) {
      std::sort(shortcuts.begin(), shortcuts.end(), [&](const Shortcut& a, const Shortcut& b) {
        return outgoing ? a.from < b.from : a.to < b.to;
      });
      for (size_t i = 0; i < shortcuts.size();) {
        const uint32_t owner = outgoing ? shortcuts[i].from : shortcuts[i].to;
        std::vector<DynArc>& list = outgoing ? out_[owner] : in_[owner];
        if (++pos_gen_ == 0) std::fill(pos_stamp_.begin(), pos_stamp_.end(), 0), pos_gen_ = 1;
        for (size_t k = 0; k < list.size(); ++k) {
          pos_stamp_[list[k].node] = pos_gen_;
          pos_[list[k].node] = static_cast<uint32_t>(k);
        }
        for (; i < shortcuts.size() && (outgoing ? shortcuts[i].from : shortcuts[i].to) == owner;
             ++i) {
          const uint32_t other = outgoing ? shortcuts[i].to : shortcuts[i].from;
          const double cost = shortcuts[i].cost;
          if (pos_stamp_[other] == pos_gen_) {
            DynArc& a = list[pos_[other]];
            if (cost < a.cost) a.cost = cost, a.via = v;
          } else {
            pos_stamp_[other] = pos_gen_;
            pos_[other] = static_cast<uint32_t>(list.size());
            list.push_back({other, v, cost});
            if (outgoing) ++arcs_left_;
          }
        }
      }
    }
  }

  // The shortcuts contracting v needs, with witness searches of at most `settled` nodes: one
  // from each in-neighbour, in the order of in_[v]. With a helper thread, the searches of a
  // node with enough of them are shared out (each thread takes the next in-neighbour left)
  // and their shortcuts merged back into that order, so the result is the same either way.
  void Shortcuts(uint32_t v, size_t settled, std::vector<Shortcut>* out) {
    const size_t ins = in_[v].size();
    if (!helper_ || ins < 2 || ins * settled < kSharedWork) {
      for (uint32_t i = 0; i < ins; ++i) SearchFrom(searches_[0], v, i, settled, out);
      return;
    }
    job_node_ = v;
    job_settled_ = settled;
    next_in_.store(0, std::memory_order_relaxed);
    helper_->Post();
    Share(searches_[0], v, settled);
    const Search& a = searches_[0];
    if (!helper_->Finish()) {  // it did not start: this thread did every search
      out->insert(out->end(), a.found.begin(), a.found.end());
      return;
    }
    const Search& b = searches_[1];
    if (b.searched > 0) ++shared_;
    size_t i = 0, k = 0;
    while (i < a.found.size() || k < b.found.size()) {
      const bool take_a =
          k == b.found.size() || (i < a.found.size() && a.found_in[i] < b.found_in[k]);
      out->push_back(take_a ? a.found[i++] : b.found[k++]);
    }
  }

  // The searches of a node with fewer in-neighbours, or less to settle from each, run on one
  // thread: below this (in-neighbours times nodes each search may settle) the handover costs
  // about what sharing saves. Measured on the generated 10^7-node map (bench/README): 80,
  // 120 and 160 within the noise; 1,000 (about the contractions only) a third of the gain.
  static constexpr size_t kSharedWork = 160;

  // The searches from in-neighbours of v not taken yet, one at a time, into s.found.
  void Share(Search& s, uint32_t v, size_t settled) {
    s.found.clear();
    s.found_in.clear();
    s.searched = 0;
    const size_t ins = in_[v].size();
    for (uint32_t i; (i = next_in_.fetch_add(1, std::memory_order_relaxed)) < ins;) {
      SearchFrom(s, v, i, settled, &s.found);
      s.found_in.resize(s.found.size(), i);
      ++s.searched;
    }
  }

  // The shortcuts over v from its i-th in-neighbour: to each out-neighbour the witness search
  // from there (v left out) does not reach as cheaply.
  void SearchFrom(Search& s, uint32_t v, uint32_t i, size_t settled,
                  std::vector<Shortcut>* out) const {
    const DynArc& in = in_[v][i];
    double limit = -1;
    for (const DynArc& o : out_[v]) {
      if (o.node != in.node) limit = std::max(limit, in.cost + o.cost);
    }
    if (limit < 0) return;  // v leads nowhere else from here
    Witness(s, in.node, v, limit, settled, out_[v]);
    for (const DynArc& o : out_[v]) {
      if (o.node == in.node) continue;
      const double via = in.cost + o.cost;
      if (s.G(o.node) > via) out->push_back({in.node, o.node, via});
    }
  }

  // Blocks of nodes not taken yet, one at a time: each node's priority into first_priority_.
  void FirstPriorities(Search& s, std::vector<Shortcut>* scratch) {
    constexpr uint32_t kBlock = 1024;
    for (uint64_t b; (b = next_block_.fetch_add(kBlock, std::memory_order_relaxed)) < n_;) {
      const auto end = static_cast<uint32_t>(std::min<uint64_t>(n_, b + kBlock));
      for (auto v = static_cast<uint32_t>(b); v < end; ++v) {
        scratch->clear();
        const size_t ins = in_[v].size();
        for (uint32_t i = 0; i < ins; ++i) SearchFrom(s, v, i, o_.estimate_settled, scratch);
        first_priority_[v] = PriorityOf(v, scratch->size());
      }
    }
  }

  // A node's priority, `shortcuts` the shortcuts contracting it would add: the change in
  // arcs, then the neighbours contracted so far (so that contraction spreads out).
  int64_t PriorityOf(uint32_t v, size_t shortcuts) const {
    const int64_t difference =
        static_cast<int64_t>(shortcuts) - static_cast<int64_t>(in_[v].size() + out_[v].size());
    return 2 * difference + deleted_[v];
  }

  int64_t Priority(uint32_t v) {
    scratch_.clear();
    Shortcuts(v, o_.estimate_settled, &scratch_);
    return PriorityOf(v, scratch_.size());
  }

  // Dijkstra from `source` over nodes not contracted, `skip` excluded, until the cheapest
  // open node costs more than `limit`, `settled` nodes are settled or every target is.
  // Reads out_ only, so two run at once, each with its own Search.
  void Witness(Search& s, uint32_t source, uint32_t skip, double limit, size_t settled,
               const std::vector<DynArc>& targets) const {
    if (++s.label_gen == 0) {
      for (Search::Label& l : s.label) l.stamp = 0;
      s.label_gen = 1;
    }
    if (++s.target_gen == 0) std::fill(s.target.begin(), s.target.end(), 0), s.target_gen = 1;
    size_t open = 0;
    for (const DynArc& t : targets) {
      if (t.node != source && s.target[t.node] != s.target_gen) {
        s.target[t.node] = s.target_gen, ++open;
      }
    }
    s.heap.clear();
    s.SetG(source, 0);
    s.Push({0, source});
    size_t count = 0;
    while (!s.heap.empty()) {
      const Search::HeapEntry top = s.heap.front();
      std::pop_heap(s.heap.begin(), s.heap.end(), std::greater<>());
      s.heap.pop_back();
      if (top.g > s.G(top.v)) continue;
      if (top.g > limit || ++count > settled) break;
      if (s.target[top.v] == s.target_gen && --open == 0) break;
      for (const DynArc& a : out_[top.v]) {
        if (a.node == skip) continue;
        const double ng = top.g + a.cost;
        if (ng < s.G(a.node)) {
          s.SetG(a.node, ng);
          s.Push({ng, a.node});
        }
      }
    }
  }

  HierarchyOptions o_;
  uint32_t n_;
  std::vector<std::vector<DynArc>> out_, in_;
  size_t arcs_left_ = 0;  // among the nodes not contracted (the sizes of their out_ lists)
  std::vector<int64_t> deleted_;
  std::vector<uint32_t> pos_, pos_stamp_;  // AddShortcuts: a list's index of each neighbour
  uint32_t pos_gen_ = 0;
  std::vector<Shortcut> scratch_;
  std::vector<Search> searches_;  // the contracting thread's, then the helper's
  // A node's searches shared with the helper: the node, what each may settle, and the index
  // of the next in-neighbour to search from.
  uint32_t job_node_ = 0;
  size_t job_settled_ = 0;
  std::atomic<uint32_t> next_in_{0};
  size_t shared_ = 0;  // nodes with searches the helper did
  // The first priorities, computed by both threads (job_all_: the helper's job is theirs).
  std::vector<int64_t> first_priority_;
  std::atomic<uint64_t> next_block_{0};  // 64 bits: no wrap past the last block
  bool job_all_ = false;
  std::vector<Shortcut> helper_scratch_;
  std::unique_ptr<Helper> helper_;  // last: its thread stops before the rest goes
};

// The arc of `list` (one node's) reaching `node`; null when there is none (a corrupt file).
const HierarchyArc* Find(const Hierarchy& h, bool up, uint32_t owner, uint32_t node) {
  const auto& first = up ? h.up_first : h.down_first;
  const auto& arcs = up ? h.up : h.down;
  for (uint32_t i = first[owner]; i < first[owner + 1]; ++i) {
    if (arcs[i].to == node) return &arcs[i];
  }
  return nullptr;
}

// Appends the graph arcs of hierarchy arc u -> v (over `via`), in walking order.
Status Unpack(const Hierarchy& h, uint32_t u, uint32_t v, uint32_t via,
              std::vector<uint32_t>* arcs) {
  struct Item {
    uint32_t u, v, via;
  };
  std::vector<Item> stack{{u, v, via}};
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    if (it.via & Hierarchy::kViaArc) {
      arcs->push_back(it.via & ~Hierarchy::kViaArc);
      continue;
    }
    const uint32_t m = it.via;
    const HierarchyArc* first = Find(h, /*up=*/false, m, it.u);  // u -> m, stored at m
    const HierarchyArc* second = Find(h, /*up=*/true, m, it.v);  // m -> v
    if (!first || !second) {
      return Status::Corruption("trail.graph: hierarchy shortcut over node " + std::to_string(m) +
                                " has no halves");
    }
    stack.push_back({m, it.v, second->via});
    stack.push_back({it.u, m, first->via});
  }
  return Status::Ok();
}

// The node whose list holds arc index i.
uint32_t Owner(const std::vector<uint32_t>& first, uint32_t i) {
  return static_cast<uint32_t>(std::upper_bound(first.begin(), first.end(), i) - first.begin() - 1);
}

thread_local size_t last_settled = 0;

}  // namespace

bool HierarchyAnswers(const FootOptions& o) {
  const FootOptions d;
  return !o.shortest && o.avoid_steps == d.avoid_steps && o.max_difficulty >= 6 &&
         o.prefer_unpaved == d.prefer_unpaved && o.minimise_climb == d.minimise_climb &&
         std::max(1.0, o.road_penalty) == d.road_penalty;
}

void IndexByRank(Hierarchy* h) {
  Hierarchy::ByRank& r = h->by_rank;
  const size_t n = h->rank.size();
  r.node.assign(n, 0);
  for (uint32_t v = 0; v < n; ++v) r.node[h->rank[v]] = v;
  auto index = [&](const std::vector<uint32_t>& first, const std::vector<HierarchyArc>& arcs,
                   std::vector<uint32_t>* rfirst, std::vector<HierarchyArc>* rarcs) {
    rfirst->assign(n + 1, 0);
    rarcs->clear();
    rarcs->reserve(arcs.size());
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t v = r.node[k];
      (*rfirst)[k] = static_cast<uint32_t>(rarcs->size());
      for (uint32_t i = first[v]; i < first[v + 1]; ++i) {
        rarcs->push_back({h->rank[arcs[i].to], arcs[i].via, arcs[i].cost});
      }
    }
    (*rfirst)[n] = static_cast<uint32_t>(rarcs->size());
  };
  index(h->up_first, h->up, &r.up_first, &r.up);
  index(h->down_first, h->down, &r.down_first, &r.down);
}

Hierarchy BuildHierarchy(const TrailGraph& g, const HierarchyOptions& options,
                         HierarchyStats* stats) {
  const auto t0 = std::chrono::steady_clock::now();
  Hierarchy h;
  {
    Contractor c(g, options);
    h = c.Run(stats);
  }  // its working memory gone before the ranked copy is made
  if (options.index_by_rank) IndexByRank(&h);
  if (stats) {
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return h;
}

std::vector<uint32_t> InheritedOrder(const TrailGraph& g, const TrailGraph& old, size_t* matched) {
  constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> counterpart(g.nodes(), kNone);  // the old node each new one is
  // By way: the edges of a way that has as many edges in both graphs are its pieces in the
  // same order, so their ends are the same junctions, wherever they are now.
  if (!g.edge_way.empty() && g.edge_way.size() == g.edges.size() &&
      old.edge_way.size() == old.edges.size()) {
    auto by_way = [](const TrailGraph& graph) {
      std::vector<std::pair<uint64_t, uint32_t>> v(graph.edges.size());
      for (uint32_t e = 0; e < graph.edges.size(); ++e) v[e] = {graph.edge_way[e], e};
      std::sort(v.begin(), v.end());
      return v;
    };
    const auto mine = by_way(g), theirs = by_way(old);
    size_t i = 0, k = 0;
    while (i < mine.size() && k < theirs.size()) {
      const uint64_t way = mine[i].first;
      if (theirs[k].first < way) {
        ++k;
        continue;
      }
      size_t i_end = i, k_end = k;
      while (i_end < mine.size() && mine[i_end].first == way) ++i_end;
      while (k_end < theirs.size() && theirs[k_end].first == way) ++k_end;
      if (k_end - k == i_end - i) {
        for (size_t j = 0; j < i_end - i; ++j) {
          const GraphEdge& a = g.edges[mine[i + j].second];
          const GraphEdge& b = old.edges[theirs[k + j].second];
          if (counterpart[a.from] == kNone) counterpart[a.from] = b.from;
          if (counterpart[a.to] == kNone) counterpart[a.to] = b.to;
        }
      }
      i = i_end;
      k = k_end;
    }
  }
  // By position, for the nodes of ways that changed their pieces.
  auto key = [](PointE7 p) {
    return (uint64_t{static_cast<uint32_t>(p.lat)} << 32) | static_cast<uint32_t>(p.lon);
  };
  std::unordered_map<uint64_t, uint32_t> at;
  at.reserve(old.nodes());
  for (uint32_t v = 0; v < old.nodes(); ++v) at.emplace(key(old.node_point[v]), v);
  std::vector<uint32_t> order(g.nodes(), 0);
  size_t found = 0;
  for (uint32_t v = 0; v < g.nodes(); ++v) {
    uint32_t was = counterpart[v];
    if (was == kNone) {
      auto it = at.find(key(g.node_point[v]));
      if (it != at.end()) was = it->second;
    }
    if (was != kNone) order[v] = old.hierarchy->rank[was] + 1, ++found;
  }
  if (matched) *matched = found;
  return order;
}

double ContractionSecondsLeft(size_t done, size_t total, size_t step_nodes, double step_s) {
  if (done >= total) return 0;
  if (step_nodes == 0 || !(step_s > 0)) return std::numeric_limits<double>::quiet_NaN();
  constexpr double kSlowing = 1.3;  // rate ~ left^kSlowing
  constexpr double kCoreShare = 0.02;
  const double rate = static_cast<double>(step_nodes) / step_s;
  const double n = static_cast<double>(total);
  const double left = static_cast<double>(total - done) / n;
  if (left <= kCoreShare) return (n * left) / rate;
  // Integral of n / (rate * (x / left)^k) dx from the core's share to `left`.
  return n * std::pow(left, kSlowing) / ((kSlowing - 1) * rate) *
         (std::pow(kCoreShare, 1 - kSlowing) - std::pow(left, 1 - kSlowing));
}

void ContractionInput(const TrailGraph& g, const std::function<void(std::string_view)>& sink) {
  constexpr size_t kChunk = 1 << 20;
  std::string out;
  out.reserve(kChunk + 64);
  auto put = [&out](const auto& v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  auto flush = [&](bool last) {
    if (out.size() >= kChunk || (last && !out.empty())) {
      sink(out);
      out.clear();
    }
  };
  put(static_cast<uint64_t>(g.nodes()));
  for (uint32_t f : g.first_arc) {
    put(f);
    flush(false);
  }
  // As the Contractor prices them, as bits (the hierarchy stores these doubles).
  const FootOptions defaults;
  for (const Arc& a : g.arcs) {
    put(a.to);
    put(a.edge_dir);
    put(a.edge() < g.edges.size() ? EdgeCost(g.edges[a.edge()], a.backward(), defaults, true)
                                  : -1.0);
    flush(false);
  }
  flush(true);
}

size_t HierarchySettledLastQuery() {
  return last_settled;
}

Result<Path> HierarchyPath(const TrailGraph& g, const Snap& from, const Snap& to) {
  if (!g.hierarchy) return Status::Internal("the trail graph has no hierarchy");
  const Hierarchy& h = *g.hierarchy;
  const Hierarchy::ByRank& r = h.by_rank;
  if (r.node.size() != g.nodes()) return Status::Internal("the hierarchy is not indexed by rank");
  if (from.edge >= g.edges.size() || to.edge >= g.edges.size()) {
    return Status::InvalidArgument("snap outside the graph");
  }
  const FootOptions o;
  const GraphEdge& fe = g.edges[from.edge];
  const GraphEdge& te = g.edges[to.edge];
  // Both searches run in rank space: workspaces, queues and meeting point hold ranks.
  Lease forward_lease, backward_lease;
  Workspace& fw = *forward_lease;
  Workspace& bw = *backward_lease;
  fw.Reset(g.nodes());
  bw.Reset(g.nodes());
  MinQueue fq, bq;
  // Ranks from here up are the core; each search counts its queue entries below it. Once
  // neither queue holds one, no node below the core can be reached any more (a core node's
  // arcs lead only to core nodes): both are plain Dijkstras over the core from then on, and
  // may stop as a bidirectional Dijkstra does, when their two tops together reach the best
  // meeting (found when relaxing as well as when settling), instead of each reaching it.
  const uint32_t core_rank = static_cast<uint32_t>(g.nodes() - h.core);
  size_t f_below = 0, b_below = 0;
  auto seed = [&](Workspace& w, MinQueue& q, size_t& below, uint32_t node, double c, uint32_t how) {
    const uint32_t v = h.rank[node];
    if (c < w.G(v)) {
      w.Set(v, c, how);
      q.push({c, c, v});
      below += v < core_rank;
    }
  };
  seed(fw, fq, f_below, fe.from, PartCost(g, from.edge, from.offset_m, 0, o), kSeedFrom);
  seed(fw, fq, f_below, fe.to, PartCost(g, from.edge, from.offset_m, fe.length_m, o), kSeedTo);
  seed(bw, bq, b_below, te.from, PartCost(g, to.edge, 0, to.offset_m, o), kSeedFrom);
  seed(bw, bq, b_below, te.to, PartCost(g, to.edge, te.length_m, to.offset_m, o), kSeedTo);
  double best = kInf;
  bool direct = false;
  uint32_t meet = UINT32_MAX;
  if (from.edge == to.edge) {
    best = PartCost(g, from.edge, from.offset_m, to.offset_m, o);
    direct = true;
  }
  size_t settled = 0;
  for (;;) {
    const double ftop = fq.empty() ? kInf : fq.top().g;
    const double btop = bq.empty() ? kInf : bq.top().g;
    if (std::min(ftop, btop) >= best || (fq.empty() && bq.empty())) break;
    if (f_below == 0 && b_below == 0 && ftop + btop >= best) break;
    const bool forward = ftop <= btop;
    Workspace& w = forward ? fw : bw;
    const Workspace& other = forward ? bw : fw;
    MinQueue& q = forward ? fq : bq;
    size_t& below = forward ? f_below : b_below;
    const auto top = q.top();
    q.pop();
    const uint32_t v = top.v;
    below -= v < core_rank;
    if (top.g > w.G(v)) continue;
    ++settled;
    const double through = top.g + other.G(v);
    if (through < best) best = through, meet = v, direct = false;
    // Relax along `mine`; stall when a higher node reaches v more cheaply through `stall`
    // (the arcs that enter v from above in this search's direction).
    const auto& first = forward ? r.up_first : r.down_first;
    const auto& arcs = forward ? r.up : r.down;
    const auto& sfirst = forward ? r.down_first : r.up_first;
    const auto& sarcs = forward ? r.down : r.up;
    // (A core node is never stalled: the arcs entering it come from core nodes, each settled,
    // and so relaxed, before any node it could stall, so the scan is skipped.)
    bool stalled = false;
    for (uint32_t i = sfirst[v]; v < core_rank && i < sfirst[v + 1]; ++i) {
      if (w.G(sarcs[i].to) + sarcs[i].cost < top.g) {
        stalled = true;
        break;
      }
    }
    if (stalled) continue;
    for (uint32_t i = first[v]; i < first[v + 1]; ++i) {
      const HierarchyArc& a = arcs[i];
      const double ng = top.g + a.cost;
      if (ng < w.G(a.to)) {
        w.Set(a.to, ng, i);
        q.push({ng, ng, a.to});
        below += a.to < core_rank;
        const double meets = ng + other.G(a.to);
        if (meets < best) best = meets, meet = a.to, direct = false;
      }
    }
  }
  last_settled = settled;
  if (!std::isfinite(best)) return NoWalkablePath();
  if (direct) return Measure(g, AlongEdge(from, to), o);
  // Forward: meet back to a seed, hierarchy arcs u -> v (ranks; collected in reverse).
  std::vector<std::pair<uint32_t, uint32_t>> up_arcs;  // (from rank, arc index into r.up)
  uint32_t v = meet;
  while (fw.Parent(v) != kSeedFrom && fw.Parent(v) != kSeedTo) {
    const uint32_t i = fw.Parent(v);
    const uint32_t u = Owner(r.up_first, i);
    up_arcs.emplace_back(u, i);
    v = u;
  }
  const bool start_via_from = fw.Parent(v) == kSeedFrom;
  std::vector<uint32_t> graph_arcs;
  for (auto it = up_arcs.rbegin(); it != up_arcs.rend(); ++it) {
    const HierarchyArc& a = r.up[it->second];
    STRIDE_RETURN_IF_ERROR(Unpack(h, r.node[it->first], r.node[a.to], a.via, &graph_arcs));
  }
  // Backward: meet forward to a seed; the arc at index i of rank x's down list is to -> x.
  v = meet;
  while (bw.Parent(v) != kSeedFrom && bw.Parent(v) != kSeedTo) {
    const uint32_t i = bw.Parent(v);
    const uint32_t x = Owner(r.down_first, i);
    STRIDE_RETURN_IF_ERROR(Unpack(h, r.node[v], r.node[x], r.down[i].via, &graph_arcs));
    v = x;
  }
  return Measure(g, WalkSteps(g, from, start_via_from, graph_arcs, to, bw.Parent(v) == kSeedFrom),
                 o);
}

}  // namespace stride::engine::trail
