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
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/catalogue.hpp"
#include "gpushare/k8s/extender_v1.hpp"
#include "gpushare/k8s/inspect.hpp"
#include "gpushare/k8s/journal.hpp"
#include "gpushare/k8s/recover.hpp"
#include "gpushare/k8s/unschedulable.hpp"

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
  /// @brief Writes the annotations only (decisions at filter time; kube-scheduler binds).
  virtual void annotate(const std::string& pod_namespace, const std::string& pod_name, const std::string& pod_uid,
                        const std::string& node, const std::map<std::string, std::string>& annotations) {
    (void)pod_uid, (void)node, (void)annotations;
    throw InvalidArgument("pod " + pod_namespace + "/" + pod_name + ": this binder cannot write annotations at filter time");
  }
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
  /// @brief Records the annotations written at filter time, with "bound": false.
  void annotate(const std::string& ns, const std::string& name, const std::string& uid, const std::string& node,
                const std::map<std::string, std::string>& annotations) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ofstream out(path_, std::ios::app);
    out << nlohmann::json{{"namespace", ns}, {"name", name}, {"uid", uid}, {"node", node}, {"annotations", annotations}, {"bound", false}}.dump()
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
  /// only if the node is unchanged).  Returns the node name.  If the journal replay left
  /// operations it could not apply (their node was not known yet), a new node makes the journal
  /// replay again onto the known nodes.
  std::string upsert_node(const nlohmann::json& node_json) {
    Node n = dialect_->node_from_json(node_json);
    std::lock_guard<std::mutex> lock(mutex_);
    if (upsert_locked(n)) replay_if_incomplete();
    return n.name;
  }

  /// @brief Replays the journal (call once after adding the nodes at start-up).  Operations on
  /// nodes not known yet (a restart without --nodes: the nodes come with the first calls) are
  /// not lost: the journal is replayed again, onto a cluster of the known nodes, whenever a new
  /// node becomes known, until every operation applies.
  ReplayReport recover() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!journal_) return ReplayReport{};
    ReplayReport rep = journal_->replay(cluster_);
    replay_incomplete_ = !rep.problems.empty();
    for (const Placement& p : cluster_.allocations()) learn(request_of(p));
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
        learn(request_of(p));
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
      SetAside own(cluster_, r.name);
      std::vector<nlohmann::json> passed_nodes;
      std::vector<std::string> passed_names;
      const auto names = args.candidate_names();
      passed_names.reserve(names.size());
      std::map<std::string, NodeFailure> failed;
      for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string& name = names[k];
        auto i = cluster_.find_node(name);
        std::string why, code;
        if (!i) {
          why = "node " + name + ": not known to the gpushare extender";
          code = "unknown_node";
        } else if (auto rej = diagnose(cluster_.view(*i), r)) {
          why = rej->message;
          code = to_string(rej->reason);
        } else if (!node_score(*i, r)) {
          why = "node " + name + ": rejected by the policy";
          code = "policy";
        }
        if (why.empty()) {
          passed_names.push_back(name);
          if (args.nodes) passed_nodes.push_back((*args.nodes)[k]);
        } else {
          out.failed_nodes[name] = why;
          failed[name] = {code, why};
        }
      }
      note_filter(r.name, failed, static_cast<std::int64_t>(names.size()));
      if (decide_at_filter_ && !passed_names.empty()) decide_now(args, r, own, passed_names, passed_nodes, out);
      if (args.nodes) out.nodes = std::move(passed_nodes);
      else out.node_names = std::move(passed_names);
    } catch (const Error& e) {
      out.error = e.what();
    }
    return out.to_json();
  }

  /// @brief tkestack gpu-admission's timing: filter itself picks the best node (the policy's
  /// score), chooses the GPUs, allocates them and writes the dialect's annotations through
  /// Binder::annotate, and passes only that node, so kube-scheduler's default binder binds the
  /// pod there (configure no bindVerb).  Off by default (decisions at bind).
  void set_decide_at_filter(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    decide_at_filter_ = on;
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
    scores.reserve(names.size());
    for (const auto& name : names) {
      auto i = cluster_.find_node(name);
      scores.push_back(i && !diagnose(cluster_.view(*i), r) ? node_score(*i, r) : std::nullopt);
    }
    std::vector<HostPriority> out;
    out.reserve(names.size());
    // Rank-preserving scale over the lexicographic scores: order the distinct scores and map
    // the best to 10, the worst to 0, evenly in between.
    std::vector<Score> distinct;
    distinct.reserve(scores.size());
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
      const PendingPod& pp = pod->second;
      commit_locked(key, r, i, own, "bind", a.pod_uid, [&](const Placement& placement) {
        binder_->bind(a.pod_namespace, a.pod_name, a.pod_uid, a.node, dialect_->bind_annotations(pp.pod, placement));
      });
      pods_.erase(pod);
      waits_.erase(key);
      unschedulable_.forget(key);
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
    waits_.erase(key);
    unschedulable_.forget(key);
    if (!cluster_.allocation(key)) return false;
    cluster_.release(key);
    if (journal_) journal_->append_release(key);
    return true;
  }

  /// @brief What sync_from_api did.
  struct SyncReport {
    std::size_t nodes = 0;        ///< nodes in the rebuilt cluster
    std::size_t placements = 0;   ///< allocations read from the pods' bind annotations
    std::size_t in_flight = 0;    ///< binds of this service the pod list does not show yet, kept on top
    std::vector<std::string> problems;  ///< nodes that could not be read, pods that could not be placed
  };

  /// @brief Makes the API server's objects the state: the cluster is rebuilt from the nodes
  /// and the pods' bind annotations (recover_cluster; pods deleted, Succeeded or Failed hold
  /// nothing, pods bound by someone else are adopted, removed nodes go).  Binds this service
  /// made that the pods do not show yet (the watch lags the bind) stay allocated on top until
  /// the pod shows a node, a different UID, or has been absent for `absent_grace`.  From the
  /// first call on, every successful bind is tracked that way.
  SyncReport sync_from_api(const std::vector<nlohmann::json>& nodes, const std::vector<nlohmann::json>& pods,
                           std::chrono::seconds absent_grace = std::chrono::seconds(30)) {
    SyncReport rep;
    nlohmann::json good = nlohmann::json::array();
    for (const auto& n : nodes) {
      try {
        dialect_->node_from_json(n);  // the dialect keeps the node (GPU UUIDs) for bind annotations
        good.push_back(n);
      } catch (const Error& e) {
        rep.problems.push_back(std::string("node not used: ") + e.what());
      }
    }
    const nlohmann::json pod_list(pods);
    RecoverResult r = recover_cluster(good, pod_list, parse_dialect(dialect_->name()));
    rep.nodes = r.cluster.size();
    rep.placements = r.placements.size();
    struct Seen {
      std::string uid, node;
      bool terminal;
    };
    std::map<std::string, Seen> seen;
    for (const auto& p : pods) {
      try {
        const auto& m = p.at("metadata");
        const std::string phase = p.contains("status") ? p["status"].value("phase", "") : "";
        const std::string node = p.contains("spec") ? p["spec"].value("nodeName", "") : "";
        seen[m.value("namespace", "") + "/" + m.value("name", "")] = Seen{m.value("uid", ""), node, phase == "Succeeded" || phase == "Failed"};
      } catch (const nlohmann::json::exception&) {
      }
    }
    for (const auto& u : r.unplaced)  // pods not bound yet hold nothing; only bound ones are a problem
      if (auto s = seen.find(u.pod); s == seen.end() || !s->second.node.empty())
        rep.problems.push_back("pod " + u.pod + " on a node but not counted: " + u.reason);
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    api_truth_ = true;
    for (auto it = inflight_.begin(); it != inflight_.end();) {
      auto s = seen.find(it->first);
      const bool expired = now - it->second.since > absent_grace;
      const bool settled = s != seen.end() ? (!s->second.node.empty() || s->second.terminal ||
                                              (!it->second.uid.empty() && s->second.uid != it->second.uid) ||
                                              (it->second.at_filter && expired))  // never bound: decide again
                                           : expired;
      if (settled) {
        it = inflight_.erase(it);
        continue;
      }
      Placement p = it->second.placement;
      try {
        p.node_index = r.cluster.node_index(p.node);
        r.cluster.allocate(p);
        ++rep.in_flight;
        ++it;
      } catch (const Error& e) {
        rep.problems.push_back("in-flight bind of " + it->first + " dropped: " + e.what());
        it = inflight_.erase(it);
      }
    }
    // Pending pods that were deleted or got bound meanwhile are no longer pending.
    for (auto it = pods_.begin(); it != pods_.end();) {
      auto s = seen.find(it->first);
      if (s != seen.end() && (!s->second.node.empty() || s->second.terminal)) it = pods_.erase(it);
      else ++it;
    }
    cluster_ = std::move(r.cluster);
    dropped_ = rep.problems;
    // A learning policy (fgd, best) also learns from the pods the API server shows bound (after a
    // restart or a leader change, that is all of them), each once; deleted pods are forgotten.
    for (const Placement& p : r.placements) learn(request_of(p));
    for (auto it = learned_.begin(); it != learned_.end();)
      it = (seen.count(*it) || pods_.count(*it)) ? std::next(it) : learned_.erase(it);
    return rep;
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

  /// @brief Per node and GPU the allocated and total compute and memory, each node's FGD
  /// fragmentation, the pending pods with why they wait, the recently unschedulable pods and
  /// the cluster totals, as JSON (what `GET /inspect` serves; schema in k8s/inspect.hpp).
  nlohmann::json inspect() const {
    std::lock_guard<std::mutex> lock(mutex_);
    InspectExtras x;
    for (const auto& kv : pods_) {
      auto w = waits_.find(kv.first);
      x.pending.push_back({kv.first, w != waits_.end() ? w->second : "seen by prioritize, not filtered yet"});
      x.pending_requests.push_back(kv.second.request);
    }
    x.unschedulable = unschedulable_.entries();
    x.dropped_allocations = dropped_;
    return inspect_json(cluster_, x);
  }

 private:
  struct PendingPod {
    nlohmann::json pod;
    Request request;
  };
  struct InFlight {
    std::string uid;
    Placement placement;
    std::chrono::steady_clock::time_point since;
    bool at_filter = false;  // decided at filter: kube-scheduler's binder may never bind it
  };

  void learn_nodes(const ExtenderArgs& args) {
    if (!args.nodes) return;
    std::vector<Node> nodes;
    nodes.reserve(args.nodes->size());
    for (const auto& n : *args.nodes) nodes.push_back(dialect_->node_from_json(n));
    std::lock_guard<std::mutex> lock(mutex_);
    bool added = false;
    for (const auto& n : nodes) added = upsert_locked(n) || added;
    if (added) replay_if_incomplete();
  }

  // Adds or replaces a node under mutex_; true if it was new.
  bool upsert_locked(const Node& n) {
    if (auto i = cluster_.find_node(n.name)) {
      if (!(cluster_.nodes()[*i] == n)) rebuild_with(n);
      return false;
    }
    cluster_.add_node(n);
    return true;
  }

  // The journal's replay left operations undone (unknown nodes): replay it again onto a cluster
  // of the nodes known now.  The journal holds every operation of this run too, so the result is
  // the current state plus what the new nodes make applicable.  Under mutex_.
  void replay_if_incomplete() {
    if (!replay_incomplete_ || !journal_) return;
    Cluster fresh(cluster_.nodes());
    ReplayReport r = journal_->replay(fresh);
    cluster_ = std::move(fresh);
    replay_incomplete_ = !r.problems.empty();
    dropped_ = r.problems;
  }

  Request remember_pod(const nlohmann::json& pod) {
    Request r = dialect_->request_from_pod(pod);
    std::lock_guard<std::mutex> lock(mutex_);
    // A learning policy (fgd, best) counts each pod once, when the service first sees it.
    if (pods_.find(r.name) == pods_.end() && !cluster_.allocation(r.name)) learn(r);
    pods_[r.name] = PendingPod{pod, r};
    return r;
  }

  // What a recovered allocation tells a learning policy: the pod's shape (its GPU model
  // constraints are not in the placement).
  // Shows a pod to a learning policy, once per pod (under mutex_).
  void learn(const Request& r) {
    if (learned_.insert(r.name).second) observe(policy_, cluster_, r);
  }

  static Request request_of(const Placement& p) {
    Request r;
    r.name = p.request;
    r.cpu_milli = p.cpu_milli;
    r.host_mib = p.host_mib;
    r.gpu = {static_cast<int>(p.gpus.size()), p.gpus.empty() ? 0 : p.milli_per_gpu, p.gpus.empty() ? 0 : p.mib_per_gpu};
    return r;
  }

  // What the last filter call said about a pod (under mutex_): why it waits, and the bounded
  // log of pods no node could take.
  void note_filter(const std::string& pod, const std::map<std::string, NodeFailure>& failed, std::int64_t candidates) {
    const std::int64_t passed = candidates - static_cast<std::int64_t>(failed.size());
    if (passed > 0) {
      waits_[pod] = std::to_string(passed) + " of " + std::to_string(candidates) + " candidate nodes fit; waiting for bind";
      unschedulable_.forget(pod);
      return;
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    unschedulable_.record(pod, failed, candidates, static_cast<std::int64_t>(now.count()));
    waits_[pod] = unschedulable_.get(pod)->reason;
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

  // decide-at-filter: the best passing node gets the pod now; the others fail with why.
  void decide_now(const ExtenderArgs& args, const Request& r, SetAside& own, std::vector<std::string>& names,
                  std::vector<nlohmann::json>& nodes, ExtenderFilterResult& out) {
    std::size_t best = 0;
    std::optional<Score> best_score;
    for (std::size_t k = 0; k < names.size(); ++k) {
      const auto sc = node_score(cluster_.node_index(names[k]), r);
      if (sc && (!best_score || *best_score < *sc)) best_score = sc, best = k;
    }
    const auto& meta = args.pod.at("metadata");
    const std::string ns = meta.value("namespace", "default"), name = meta.value("name", ""), uid = meta.value("uid", "");
    commit_locked(r.name, r, cluster_.node_index(names[best]), own, "filter", uid, [&](const Placement& placement) {
      binder_->annotate(ns, name, uid, names[best], dialect_->bind_annotations(args.pod, placement));
    });
    pods_.erase(r.name);
    for (std::size_t k = 0; k < names.size(); ++k)
      if (k != best) out.failed_nodes[names[k]] = "node " + names[k] + ": gpushare placed the pod on node " + names[best] + " at filter time";
    names = {names[best]};
    if (args.nodes) nodes = {nodes[best]};
  }

  // Chooses the GPUs on node i for r, allocates and journals them, then calls `write` (the
  // Binder); if it throws, undoes everything and throws.  Under mutex_; `own` is the pod's
  // SetAside, dropped on success.  `verb` names the step in errors.
  Placement commit_locked(const std::string& key, const Request& r, std::size_t i, SetAside& own, const char* verb,
                          const std::string& uid, const std::function<void(const Placement&)>& write) {
    GpuChoice choice;
    const bool chosen = std::visit([&](auto& p) { return policy_choose_gpus(p, cluster_.view(i), r, choice); }, policy_);
    if (!chosen)
      throw CapacityError(std::string(verb) + " " + key + ": policy " +
                          std::visit([](const auto& p) { return std::string(p.name()); }, policy_) +
                          " finds no GPUs for it on node " + cluster_.nodes()[i].name);
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
      write(placement);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "the Binder threw an exception that is not a std::exception";
    }
    if (failure) {
      cluster_.release(placement);  // `own` puts a held allocation back when it goes
      std::string msg = std::string(verb) + " " + key + ": " + *failure;
      try {
        if (journal_) own.held() ? journal_->append_reallocate(*own.held()) : journal_->append_release(key);
      } catch (const std::exception& j) {
        msg += std::string("; and the journal could not record the undo (") + j.what() + ")";
      }
      throw Error(ErrorKind::conflict, msg);
    }
    own.drop();
    if (api_truth_) inflight_[key] = InFlight{uid, placement, std::chrono::steady_clock::now(), std::string(verb) == "filter"};
    return placement;
  }

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
  bool decide_at_filter_ = false;             // gpu-admission timing (set_decide_at_filter)
  bool replay_incomplete_ = false;            // the journal named nodes not known yet
  bool api_truth_ = false;                    // sync_from_api was called: track in-flight binds
  std::map<std::string, InFlight> inflight_;  // binds the pod list does not show yet
  std::map<std::string, std::string> waits_;  // pod -> why it waits, from its last filter call
  UnschedulableLog unschedulable_{100};
  std::set<std::string> learned_;             // pods a learning policy has been shown
};

}  // namespace k8s
}  // namespace gpushare
