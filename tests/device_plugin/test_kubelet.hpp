// A test kubelet: the two kubelet gRPC servers a device plugin talks to (Registration on
// <dir>/kubelet.sock, PodResourcesLister v1 on <dir>/pod-resources.sock), a client for the
// plugin's own socket, and the plugin process itself (gpushare-device-plugin, spawned with
// fork/exec).  Everything lives in a fresh temp directory, never /var/lib/kubelet.
//
// It follows the kubelet's side of the protocol: a restart removes every socket of the
// device-plugin directory and creates kubelet.sock anew; a pod appears in pod-resources when the
// kubelet starts admitting it and its devices appear after Allocate succeeded.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "deviceplugin_v1beta1.grpc.pb.h"
#include "podresources_v1.grpc.pb.h"

namespace testkubelet {

class Registrar final : public v1beta1::Registration::Service {
 public:
  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* req, v1beta1::Empty*) override {
    std::lock_guard<std::mutex> l(mu_);
    got_.push_back(*req);
    cv_.notify_all();
    return grpc::Status::OK;
  }
  /// Waits until `n` registrations arrived in total; returns them.
  std::vector<v1beta1::RegisterRequest> wait(std::size_t n, std::chrono::seconds d = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, d, [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1beta1::RegisterRequest> got_;
};

class PodResources final : public v1::PodResourcesLister::Service {
 public:
  grpc::Status List(grpc::ServerContext*, const v1::ListPodResourcesRequest*, v1::ListPodResourcesResponse* out) override {
    std::lock_guard<std::mutex> l(mu_);
    *out = resp_;
    ++calls_;
    return grpc::Status::OK;
  }
  /// The kubelet adds the pod to its pod manager, just before admitting it.
  void admit(const std::string& ns, const std::string& name, const std::vector<std::string>& containers) {
    std::lock_guard<std::mutex> l(mu_);
    auto* p = resp_.add_pod_resources();
    p->set_namespace_(ns);
    p->set_name(name);
    for (const auto& c : containers) p->add_containers()->set_name(c);
  }
  /// Allocate succeeded: the container holds these devices.
  void record(const std::string& name, const std::string& container, const std::string& resource, const std::vector<std::string>& ids) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& p : *resp_.mutable_pod_resources())
      if (p.name() == name)
        for (auto& c : *p.mutable_containers())
          if (c.name() == container) {
            auto* d = c.add_devices();
            d->set_resource_name(resource);
            for (const auto& id : ids) d->add_device_ids(id);
          }
  }
  int calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  v1::ListPodResourcesResponse resp_;
  int calls_ = 0;
};

class TestKubelet {
 public:
  TestKubelet() {
    char tmpl[] = "/tmp/gpushare-kubelet-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    start_registration();
    grpc::ServerBuilder b;
    b.AddListeningPort("unix://" + pod_resources_socket(), grpc::InsecureServerCredentials());
    b.RegisterService(&podres_);
    podres_server_ = b.BuildAndStart();
  }
  ~TestKubelet() {
    stop_plugin();
    if (reg_server_) reg_server_->Shutdown(std::chrono::system_clock::now());
    if (podres_server_) podres_server_->Shutdown(std::chrono::system_clock::now());
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  const std::string& dir() const { return dir_; }
  std::string pod_resources_socket() const { return dir_ + "/pod-resources.sock"; }
  Registrar& registrar() { return *registrar_; }
  PodResources& pod_resources() { return podres_; }

  /// The kubelet restarts: its sockets and every plugin socket in the directory are removed,
  /// then kubelet.sock is created again by a new registration server.
  void restart() {
    reg_server_->Shutdown(std::chrono::system_clock::now());
    reg_server_.reset();
    if (DIR* d = ::opendir(dir_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n.size() > 5 && n.substr(n.size() - 5) == ".sock" && n != "pod-resources.sock") ::unlink((dir_ + "/" + n).c_str());
      }
      ::closedir(d);
    }
    start_registration();
  }

  /// Starts the plugin with these arguments plus --device-plugin-dir and --pod-resources-socket,
  /// and these extra environment variables (set in the child only).
  void start_plugin(const std::string& exe, std::vector<std::string> args,
                    const std::vector<std::pair<std::string, std::string>>& env = {}) {
    args.insert(args.begin(), exe);
    args.push_back("--device-plugin-dir");
    args.push_back(dir_);
    args.push_back("--pod-resources-socket");
    args.push_back(pod_resources_socket());
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open((dir_ + "/plugin.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (const auto& kv : env) ::setenv(kv.first.c_str(), kv.second.c_str(), 1);
      std::vector<char*> av;
      for (auto& a : args) av.push_back(a.data());
      av.push_back(nullptr);
      ::execv(exe.c_str(), av.data());
      ::_exit(127);
    }
  }
  /// SIGTERM, then the exit status (-1 if it had to be killed).
  int stop_plugin() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int st = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = 0;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = 0;
    return -1;
  }
  /// Waits up to `d` for the plugin to exit by itself: its exit status, or -1 if still running.
  int wait_exit(std::chrono::seconds d) {
    if (pid_ <= 0) return -1;
    int st = 0;
    for (auto until = std::chrono::steady_clock::now() + d; std::chrono::steady_clock::now() < until;) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = 0;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  std::string plugin_log() const {
    std::ifstream f(dir_ + "/plugin.log");
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  /// A client of the plugin endpoint named in a RegisterRequest.
  std::unique_ptr<v1beta1::DevicePlugin::Stub> plugin(const std::string& endpoint) const {
    return v1beta1::DevicePlugin::NewStub(grpc::CreateChannel("unix://" + dir_ + "/" + endpoint, grpc::InsecureChannelCredentials()));
  }

 private:
  void start_registration() {
    registrar_ = std::make_unique<Registrar>();
    grpc::ServerBuilder b;
    b.AddListeningPort("unix://" + dir_ + "/kubelet.sock", grpc::InsecureServerCredentials());
    b.RegisterService(registrar_.get());
    reg_server_ = b.BuildAndStart();
  }

  std::string dir_;
  std::unique_ptr<Registrar> registrar_;
  std::unique_ptr<grpc::Server> reg_server_, podres_server_;
  PodResources podres_;
  pid_t pid_ = 0;
};

/// Reads ListAndWatch updates on a background thread.
class Watch {
 public:
  explicit Watch(v1beta1::DevicePlugin::Stub& stub) {
    reader_ = stub.ListAndWatch(&ctx_, v1beta1::Empty());
    thread_ = std::thread([this] {
      v1beta1::ListAndWatchResponse r;
      while (reader_->Read(&r)) {
        std::lock_guard<std::mutex> l(mu_);
        got_.push_back(r);
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> l(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~Watch() {
    ctx_.TryCancel();
    thread_.join();
  }
  /// Waits for the n-th update (1-based); false on timeout or end of stream.
  bool wait(std::size_t n, v1beta1::ListAndWatchResponse& out, std::chrono::seconds d = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, d, [&] { return got_.size() >= n || ended_; });
    if (got_.size() < n) return false;
    out = got_[n - 1];
    return true;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1beta1::ListAndWatchResponse>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1beta1::ListAndWatchResponse> got_;
  bool ended_ = false;
};

}  // namespace testkubelet
