// Extender v1 wire types: case-insensitive decoding like Go's encoding/json, exact encoding.
#include <catch2/catch.hpp>
#include <gpushare/k8s/extender_v1.hpp>

using nlohmann::json;
using namespace gpushare::k8s;

TEST_CASE("ExtenderArgs decodes field names case-insensitively", "[extender]") {
  for (const char* pod_key : {"Pod", "pod", "POD", "pOd"}) {
    json j = {{pod_key, {{"metadata", {{"name", "p"}}}}}, {"nodenames", {"a", "b"}}};
    auto a = ExtenderArgs::from_json(j);
    CHECK(a.pod["metadata"]["name"] == "p");
    REQUIRE(a.node_names);
    CHECK(a.candidate_names() == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(a.nodes);
  }
  json with_nodes = {{"Pod", json::object()},
                     {"NODES", {{"items", {{{"metadata", {{"name", "n1"}}}}, {{"metadata", {{"name", "n2"}}}}}}}}};
  auto a = ExtenderArgs::from_json(with_nodes);
  REQUIRE(a.nodes);
  CHECK(a.candidate_names() == std::vector<std::string>{"n1", "n2"});
  // An exact-case key wins over a case-folded duplicate, as in Go.
  json dup = {{"pod", {{"x", 1}}}, {"Pod", {{"x", 2}}}, {"NodeNames", json::array()}};
  CHECK(ExtenderArgs::from_json(dup).pod["x"] == 2);
}

TEST_CASE("ExtenderArgs rejects bad shapes naming the field", "[extender]") {
  CHECK_THROWS_WITH(ExtenderArgs::from_json(json::array()), Catch::Contains("expected a JSON object"));
  CHECK_THROWS_WITH(ExtenderArgs::from_json({{"NodeNames", {"a"}}}), Catch::Contains("field Pod is missing"));
  CHECK_THROWS_WITH(ExtenderArgs::from_json({{"Pod", json::object()}}), Catch::Contains("neither Nodes nor NodeNames"));
  CHECK_THROWS_WITH(ExtenderArgs::from_json({{"Pod", json::object()}, {"NodeNames", {1}}}), Catch::Contains("NodeNames[] must be strings"));
  CHECK_THROWS_WITH(ExtenderArgs::from_json({{"Pod", json::object()}, {"Nodes", {{"items", 3}}}}), Catch::Contains("items array"));
  CHECK_THROWS_AS(ExtenderBindingArgs::from_json({{"PodName", 5}, {"Node", "n"}}), gpushare::ParseError);
  CHECK_THROWS_WITH(ExtenderBindingArgs::from_json({{"PodName", "p"}}), Catch::Contains("field Node is missing"));
}

TEST_CASE("results are written with kube-scheduler's exact field names", "[extender]") {
  ExtenderFilterResult r;
  r.node_names = std::vector<std::string>{"n1"};
  r.failed_nodes["n2"] = "why";
  json j = r.to_json();
  CHECK(j.dump() == R"({"Error":"","FailedAndUnresolvableNodes":{},"FailedNodes":{"n2":"why"},"NodeNames":["n1"],"Nodes":null})");
  CHECK(to_json(std::vector<HostPriority>{{"n1", 10}, {"n2", 0}}).dump() == R"([{"Host":"n1","Score":10},{"Host":"n2","Score":0}])");
  auto b = ExtenderBindingArgs::from_json({{"podname", "p"}, {"PODNAMESPACE", "ns"}, {"PodUID", "u"}, {"node", "n1"}});
  CHECK(b.pod_name == "p");
  CHECK(b.pod_namespace == "ns");
  CHECK(b.pod_uid == "u");
  CHECK(b.node == "n1");
  CHECK(ExtenderBindingResult{}.to_json().dump() == R"({"Error":""})");
}
