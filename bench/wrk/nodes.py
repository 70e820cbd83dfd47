"""Writes a NodeList of N Aliyun nodes (2 x 16 GiB, or 4 x 8 GiB for every third) for the wrk load test:
    /usr/bin/python3 bench/wrk/nodes.py 1000 > /tmp/nodes-1000.json"""
import json
import sys

n = int(sys.argv[1])
items = []
for i in range(n):
    count, gib = (4, 8) if i % 3 == 2 else (2, 16)
    res = {"cpu": "64", "memory": "256Gi", "aliyun.com/gpu-count": str(count), "aliyun.com/gpu-mem": str(count * gib)}
    items.append({"metadata": {"name": f"n{i}"}, "status": {"capacity": res, "allocatable": res}})
json.dump({"kind": "NodeList", "items": items}, sys.stdout)
