-- wrk script: POSTs filter and prioritize (alternating) with an ExtenderArgs body naming N nodes,
-- on kept-alive connections (wrk's default), as kube-scheduler with nodeCacheCapable does.
--   wrk -t2 -c4 -d20s --latency -s bench/wrk/extender.lua http://127.0.0.1:39999 -- 1000
local n = 1000
local bodies = {}
local k = 0

function init(args)
  if args[1] then n = tonumber(args[1]) end
  local names = {}
  for i = 0, n - 1 do names[#names + 1] = '"n' .. i .. '"' end
  bodies[1] = '{"Pod":{"metadata":{"name":"p","namespace":"default","uid":"u"},"spec":{"containers":' ..
              '[{"name":"c","resources":{"limits":{"aliyun.com/gpu-mem":"4"}}}]}},"NodeNames":[' ..
              table.concat(names, ",") .. ']}'
end

function request()
  k = k + 1
  local verb = (k % 2 == 0) and "prioritize" or "filter"
  return wrk.format("POST", "/gpushare-scheduler/" .. verb, {["Content-Type"] = "application/json"}, bodies[1])
end
