// gpushare/k8s/extender_service.hpp — the logic of a kube-scheduler extender, without HTTP.
// Needs nlohmann_json.
//
// The service keeps the cluster in memory and answers the three extender verbs:
//  - filter: which candidate nodes can take the pod, and for the others why not;
//  - prioritize: a 0..10 score per candidate node from the policy's node score;
//  Any live policy of the catalogue (gpushare/catalogue.hpp) decides; a learning one (fgd, best)
//  learns the workload from every pod filter/prioritize first sees and, after a restart, from the
//  allocations recovered from the journal or the pods' annotations.
//  - bind: choose the GPUs on the chosen node, commit them (re-checked under the lock, so two
//    binds racing for the same GPUs cannot both win), write the dialect's annotations through
//    the Binder and append the allocation to the journal.
// Dialects (how pods, nodes and annotations look for Aliyun, Tencent, HAMi, NVIDIA) plug in
// through `ExtenderDialect`; the API server is behind `Binder` (tests and the example use a
// journal-file binder, since no API server exists where this is built).
//
// @code
//   gpushare::k8s::ExtenderService svc(dialect, gpushare::make_policy("best-fit"), binder, "state.jsonl");
//   nlohmann::json reply = svc.filter(nlohmann::json::parse(body));
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/catalogue.hpp"
#include "gpushare/k8s/extender_v1.hpp"
#include "gpushare/k8s/inspect.hpp"
#include "gpushare/k8s/journal.hpp"

namespace gpushare {
namespace k8s {

/// @brief How one resource dialect reads pods and nodes and what it writes on bind.
class ExtenderDialect {
 public:
  virtual ~ExtenderDialect() = default;
  /// @brief Dialect name ("aliyun", "tencent", "hami", "nvidia").
  virtual std::string name() const = 0;
  /// @brief A core/v1 Node as a model Node (its GPUs as the dialect advertises them).
  virtual Node node_from_json(const nlohmann::json& node) const = 0;
  /// @brief A core/v1 Pod's effective request; its name must be "namespace/name".
  virtual Request request_from_pod(const nlohmann::json& pod) const = 0;
  /// @brief The annotations the dialect writes on the pod when it is bound to `p`.
  virtual std::map<std::string, std::string> bind_annotations(const nlohmann::json& pod, const Placement& p) const = 0;
};

/// @brief Where binds go: the API server in production, a file in tests.
class Binder {
 public:
  virtual ~Binder() = default;
  /// @brief Binds the pod to the node with the annotations; throws gpushare::Error on failure.
  virtual void bind(const std::string& pod_namespace, const std::string& pod_name, const std::string& pod_uid,
                    const std::string& node, const std::map<std::string, std::string>& annotations) = 0;
};

/// @brief Records every bind as a JSON line in a file (no API server needed).
class JournalBinder : public Binder {
 public:
  /// @brief Appends to `path`; a torn last line left by a killed predecessor is cut off first.
  explicit JournalBinder(std::string path) : path_(std::move(path)) { cut_torn_tail(path_); }
  void bind(const std::string& ns, const std::string& name, const std::string& uid, const std::string& node,
            const std::map<std::string, std::string>& annotations) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ofstream out(path_, std::ios::app);
    out << nlohmann::json{{"namespace", ns}, {"name", name}, {"uid", uid}, {"node", node}, {"annotations", annotations}}.dump()
        << '\n';
    out.flush();
    if (!out) throw Error(ErrorKind::conflict, "bind journal " + path_ + ": write failed");
  }

 private:
  std::string path_;
  std::mutex mutex_;
};

/// @brief Extender logic over an in-memory cluster; all public calls are thread-safe.
class ExtenderService {
 public:
  ExtenderService(std::shared_ptr<const ExtenderDialect> dialect, AnyPolicy policy, std::shared_ptr<Binder> binder,
                  std::optional<std::string> journal_path = std::nullopt)
      : dialect_(std::move(dialect)), policy_(std::move(policy)), binder_(std::move(binder)) {
    if (journal_path) journal_.emplace(*journal_path);
  }

  /// @brief Adds or replaces a node from its core/v1 object (replacing keeps its allocations
  /// only if the node is unchanged).  Returns the node name.
  std::string upsert_node(const nlohmann::json& node_json) {
    Node n = dialect_->node_from_json(node_json);
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto i = cluster_.find_node(n.name)) {
      if (cluster_.nodes()[*i] == n) return n.name;
      rebuild_with(n);
    } else {
      cluster_.add_node(n);
    }
    return n.name;
  }

  /// @brief Replays the journal (call once after adding the nodes at start-up).
  ReplayReport recover() {
    std::lock_guard<std::mutex> lock(mutex_);
    ReplayReport rep = journal_ ? journal_->replay(cluster_) : ReplayReport{};
    for (const Placement& p : cluster_.allocations()) observe(policy_, cluster_, request_of(p));
    return rep;
  }

  /// @brief Takes over allocations recovered elsewhere (e.g. k8s::recover_cluster over the pod
  /// list's annotations).  Each is applied through the checked path; those that cannot be
  /// (unknown node, no capacity, already allocated from the journal) are returned with why.
  std::vector<std::string> adopt(const std::vector<Placement>& placements) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> problems;
    for (Placement p : placements) {
      try {
        if (cluster_.allocation(p.request)) {
          problems.push_back("adopt " + p.request + ": already allocated (from the journal); kept that one");
          continue;
        }
        p.node_index = cluster_.node_index(p.node);
        cluster_.allocate(p);
        if (journal_) journal_->append_allocate(p);
        observe(policy_, cluster_, request_of(p));
      } catch (const Error& e) {
        problems.push_back(e.what());
      }
    }
    return problems;
  }

  /// @brief filter verb: ExtenderArgs JSON -> ExtenderFilterResult JSON.  Malformed input
  /// comes back in the result's Error field (kube-scheduler then treats the extender as failed).
  nlohmann::json filter(const nlohmann::json& body) {
    ExtenderFilterResult out;
    try {
      const ExtenderArgs args = ExtenderArgs::from_json(body);
      learn_nodes(args);
      const Request r = remember_pod(args.pod);
      std::lock_guard<std::mutex> lock(mutex_);
      const SetAside own(cluster_, r.name);
      std::vector<nlohmann::json> passed_nodes;
      std::vector<std::string> passed_names;
      const auto names = args.candidate_names();
      for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string& name = names[k];
        auto i = cluster_.find_node(name);
        std::string why;
        if (!i) {
          why = "node " + name + ": not known to the gpushare extender";
        } else if (auto rej = diagnose(cluster_.view(*i), r)) {
          why = rej->message;
        } else if (!node_score(*i, r)) {
          why = "node " + name + ": rejected by the policy";
        }
        if (why.empty()) {
          passed_names.push_back(name);
          if (args.nodes) passed_nodes.push_back((*args.nodes)[k]);
        } else {
          out.failed_nodes[name] = why;
        }
      }
      if (args.nodes) out.nodes = std::move(passed_nodes);
      else out.node_names = std::move(passed_names);
    } catch (const Error& e) {
      out.error = e.what();
    }
    return out.to_json();
  }

  /// @brief prioritize verb: ExtenderArgs JSON -> HostPriorityList JSON.  The policy's node
  /// scores are scaled linearly so the best candidate gets 10 and the worst fitting one 0
  /// (all 10 when they tie); nodes that cannot take the pod get 0.
  nlohmann::json prioritize(const nlohmann::json& body) {
    const ExtenderArgs args = ExtenderArgs::from_json(body);
    learn_nodes(args);
    const Request r = remember_pod(args.pod);
    std::lock_guard<std::mutex> lock(mutex_);
    const SetAside own(cluster_, r.name);
    const auto names = args.candidate_names();
    std::vector<std::optional<Score>> scores;
    for (const auto& name : names) {
      auto i = cluster_.find_node(name);
      scores.push_back(i && !diagnose(cluster_.view(*i), r) ? node_score(*i, r) : std::nullopt);
    }
    std::vector<HostPriority> out;
    // Rank-preserving scale over the lexicographic scores: order the distinct scores and map
    // the best to 10, the worst to 0, evenly in between.
    std::vector<Score> distinct;
    for (const auto& s : scores)
      if (s) distinct.push_back(*s);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::int64_t v = 0;
      if (scores[k]) {
        const auto rank = static_cast<std::size_t>(std::lower_bound(distinct.begin(), distinct.end(), *scores[k]) - distinct.begin());
        v = distinct.size() == 1 ? max_extender_priority
                                 : static_cast<std::int64_t>(std::llround(static_cast<double>(rank) * max_extender_priority /
                                                                          static_cast<double>(distinct.size() - 1)));
      }
      out.push_back({names[k], v});
    }
    return to_json(out);
  }

  /// @brief bind verb: ExtenderBindingArgs JSON -> ExtenderBindingResult JSON.  The pod must
  /// have been seen by filter or prioritize.  Capacity is re-checked under the lock; if it went
  /// away, or the Binder fails, nothing stays allocated and Error says why.
  ///
  /// Crash safety: the allocation is journaled *before* the Binder is called (write-ahead), so a
  /// service killed at any point never forgets a pod the API server has bound.  If it died after
  /// journaling but before answering, the restarted service holds an allocation for a pod the
  /// scheduler still thinks is pending; filter, prioritize and bind judge that pod as if it held
  /// nothing, and its next bind replaces the held allocation in one journal line
  /// (`reallocate`), so a pod never holds two.  If that bind fails (the API server may refuse
  /// because the first bind did reach it), the held allocation is restored, in memory and in
  /// the journal.  Any exception from the Binder or the dialect undoes the allocation; it is
  /// reported in Error.
  nlohmann::json bind(const nlohmann::json& body) {
    ExtenderBindingResult out;
    try {
      const ExtenderBindingArgs a = ExtenderBindingArgs::from_json(body);
      const std::string key = a.pod_namespace + "/" + a.pod_name;
      std::lock_guard<std::mutex> lock(mutex_);
      auto pod = pods_.find(key);
      if (pod == pods_.end()) throw NotFound("bind " + key + ": pod not seen by filter or prioritize");
      const Request& r = pod->second.request;
      const std::size_t i = cluster_.node_index(a.node);
      SetAside own(cluster_, key);
      if (auto rej = diagnose(cluster_.view(i), r)) throw CapacityError("bind " + key + ": " + rej->message);
      GpuChoice choice;
      const bool chosen = std::visit([&](auto& p) { return policy_choose_gpus(p, cluster_.view(i), r, choice); }, policy_);
      if (!chosen)
        throw CapacityError("bind " + key + ": policy " +
                            std::visit([](const auto& p) { return std::string(p.name()); }, policy_) +
                            " finds no GPUs for it on node " + a.node);
      Placement placement = make_placement(cluster_, i, r, choice.gpus);
      cluster_.allocate(placement);
      try {
        if (journal_) own.held() ? journal_->append_reallocate(placement) : journal_->append_allocate(placement);
      } catch (...) {
        cluster_.release(placement);
        throw;
      }
      std::optional<std::string> failure;
      try {
        binder_->bind(a.pod_namespace, a.pod_name, a.pod_uid, a.node, dialect_->bind_annotations(pod->second.pod, placement));
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "the Binder threw an exception that is not a std::exception";
      }
      if (failure) {
        cluster_.release(placement);  // `own` puts a held allocation back when it goes
        std::string msg = "bind " + key + ": " + *failure;
        try {
          if (journal_) own.held() ? journal_->append_reallocate(*own.held()) : journal_->append_release(key);
        } catch (const std::exception& j) {
          msg += std::string("; and the journal could not record the undo (") + j.what() + ")";
        }
        throw Error(ErrorKind::conflict, msg);
      }
      own.drop();
      pods_.erase(pod);
    } catch (const Error& e) {
      out.error = e.what();
    }
    return out.to_json();
  }

  /// @brief Frees what a pod holds (the pod finished or was deleted); returns false if it held nothing.
  bool forget_pod(const std::string& pod_namespace, const std::string& pod_name) {
    const std::string key = pod_namespace + "/" + pod_name;
    std::lock_guard<std::mutex> lock(mutex_);
    pods_.erase(key);
    if (!cluster_.allocation(key)) return false;
    cluster_.release(key);
    if (journal_) journal_->append_release(key);
    return true;
  }

  /// @brief A copy of the cluster, for inspection.
  Cluster cluster() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cluster_;
  }

  /// @brief Pods seen by filter/prioritize and not bound yet ("namespace/name").
  std::vector<std::string> pending_pods() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& kv : pods_) out.push_back(kv.first);
    return out;
  }

  const ExtenderDialect& dialect() const { return *dialect_; }

  /// @brief A copy of the policy (with what a learning policy has learned so far).
  AnyPolicy policy() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return policy_;
  }

  /// @brief Per node and GPU the allocated and total compute and memory, the pending pods and
  /// the cluster totals, as JSON (what `GET /inspect` serves).
  nlohmann::json inspect() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> pending;
    for (const auto& kv : pods_) pending.push_back(kv.first);
    return inspect_json(cluster_, pending, dropped_);
  }

 private:
  struct PendingPod {
    nlohmann::json pod;
    Request request;
  };

  void learn_nodes(const ExtenderArgs& args) {
    if (args.nodes)
      for (const auto& n : *args.nodes) upsert_node(n);
  }

  Request remember_pod(const nlohmann::json& pod) {
    Request r = dialect_->request_from_pod(pod);
    std::lock_guard<std::mutex> lock(mutex_);
    // A learning policy (fgd, best) counts each pod once, when the service first sees it.
    if (pods_.find(r.name) == pods_.end() && !cluster_.allocation(r.name)) observe(policy_, cluster_, r);
    pods_[r.name] = PendingPod{pod, r};
    return r;
  }

  // What a recovered allocation tells a learning policy: the pod's shape (its GPU model
  // constraints are not in the placement).
  static Request request_of(const Placement& p) {
    Request r;
    r.name = p.request;
    r.cpu_milli = p.cpu_milli;
    r.host_mib = p.host_mib;
    r.gpu = {static_cast<int>(p.gpus.size()), p.gpus.empty() ? 0 : p.milli_per_gpu, p.gpus.empty() ? 0 : p.mib_per_gpu};
    return r;
  }

  // While alive, a pod's own allocation (journaled before a crash whose answer the scheduler
  // never got) is released, so the pod is judged as if it held nothing; it is put back on
  // destruction unless drop() was called.  Used under mutex_, so putting back the placement
  // just released cannot fail.
  class SetAside {
   public:
    SetAside(Cluster& c, const std::string& pod_key) : cluster_(c) {
      if (const Placement* p = c.allocation(pod_key)) {
        held_ = *p;
        cluster_.release(*held_);
      }
    }
    SetAside(const SetAside&) = delete;
    SetAside& operator=(const SetAside&) = delete;
    ~SetAside() {
      // Re-allocating the placement just released cannot run out of capacity under the lock;
      // only std::bad_alloc could throw here, and then terminating beats a silent mismatch.
      if (held_ && !dropped_) cluster_.allocate(*held_);
    }
    const std::optional<Placement>& held() const { return held_; }
    void drop() { dropped_ = true; }

   private:
    Cluster& cluster_;
    std::optional<Placement> held_;
    bool dropped_ = false;
  };

  std::optional<Score> node_score(std::size_t i, const Request& r) {
    return std::visit(
        [&](auto& p) -> std::optional<Score> {
          GpuChoice c;
          if (!policy_choose_gpus(p, cluster_.view(i), r, c)) return std::nullopt;
          return p.score(cluster_.view(i), r, c);
        },
        policy_);
  }

  // A node whose definition changed: rebuild the cluster with the new node and re-apply every
  // allocation; those that no longer fit are dropped and reported by the next inspect.
  void rebuild_with(const Node& changed) {
    std::vector<Node> nodes = cluster_.nodes();
    for (auto& n : nodes)
      if (n.name == changed.name) n = changed;
    Cluster next(nodes);
    for (Placement p : cluster_.allocations()) {
      try {
        next.allocate(p);
      } catch (const Error& e) {
        dropped_.push_back(e.what());
      }
    }
    cluster_ = std::move(next);
  }

  std::shared_ptr<const ExtenderDialect> dialect_;
  AnyPolicy policy_;
  std::shared_ptr<Binder> binder_;
  std::optional<Journal> journal_;
  mutable std::mutex mutex_;
  Cluster cluster_;
  std::map<std::string, PendingPod> pods_;
  std::vector<std::string> dropped_;
};

}  // namespace k8s
}  // namespace gpushare
