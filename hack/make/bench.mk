# Load benchmark: many MonitoredServices in one burst against the real programs (bench/load.ts).

# The operator runs with the heap the chart gives it in its default 512Mi container (old space half of it,
# 256 MiB, 8 MiB semi-spaces: cdk8s/components/operator.ts OPERATOR_NODE_OPTIONS); BENCH_OPERATOR_NODE_OPTIONS= runs it unbounded.
BENCH_OPERATOR_NODE_OPTIONS ?= --max-old-space-size=256 --max-semi-space-size=8
BENCH_LOAD_JSON ?= docs/benchmarks/load.json

.PHONY: bench-load
bench-load: deps tools ## Apply 2,000 MonitoredServices in one burst (BENCH_SERVICES=2000): last apply -> all ConfigApplied=True and its parts, CPU s per process, writes, reloads, peak RSS; docs/benchmarks/load.{json,svg}
	BENCH_OPERATOR_NODE_OPTIONS='$(BENCH_OPERATOR_NODE_OPTIONS)' BENCH_LOAD_JSON='$(BENCH_LOAD_JSON)' $(TSX) bench/load.ts

.PHONY: bench-storm
bench-storm: deps tools ## Alert storm: 200 targets of 20 MonitoredServices down at once (BENCH_STORM_SERVICES=20, BENCH_STORM_TARGETS=10); prints emails per service, lost/duplicates, first/last email time, Alertmanager notification counters
	$(TSX) bench/alert-storm.ts

.PHONY: bench-scale
bench-scale: deps ## Operator reconcile without I/O at 1,000/5,000/10,000 MonitoredServices (BENCH_SCALE_SIZES, BENCH_SCALE_REPEAT, BENCH_SCALE_CHANGES=50): full and one-change (p50/p95) CPU/wall time, config size, peak RSS; table + docs/benchmarks/scale-*.svg
	$(TSX) bench/render-scale.ts
	$(TSX) bench/plot.ts

# The real node is one per machine: on a shared machine run `flock /tmp/vigil-node.lock make bench-node`.
.PHONY: bench-node
bench-node: deps tools node-tools ## Real node: kubectl apply → target up p50/p95 (sync sidecar vs ConfigMap volume, BENCH_APPLIES=30), delete pod → email (BENCH_OUTAGES=10); docs/benchmarks/real-node.{json,svg}
	$(TSX) bench/real-node.ts

# Published runs: `flock /tmp/vigil-bench.lock make bench-discovery` (figures go into docs/benchmarks.md).
.PHONY: bench-discovery
bench-discovery: deps tools ## Discovery layouts (per-job SD selectors vs one shared SD block per namespace + relabel) at 100/1,000 services with a real kube-apiserver and Prometheus (BENCH_DISCOVERY_SIZES, _NAMESPACES, _ENDPOINTS, _PODS, _STEADY_S, _INTERVAL, _LAYOUTS, _OUT): CPU, RSS, watches, apply → targets up; docs/benchmarks/discovery-layout.json and discovery-layout-{cpu,watches}.svg
	$(TSX) bench/discovery-layout.ts

# prometheus-operator is built only for this benchmark (hack/install-prometheus-operator.sh; `make tools` leaves it out).
.PHONY: prometheus-operator-tool
prometheus-operator-tool:
	hack/install-prometheus-operator.sh

# Publishing figures on a shared machine: `flock /tmp/vigil-bench.lock make bench-compare`.
.PHONY: bench-compare
bench-compare: deps tools prometheus-operator-tool ## Vigil vs prometheus-operator v0.85.0 in one run at 10/100/1,000 services (BENCH_COMPARE_SIZES): apply → config written, operator CPU/RSS, config size, the same Prometheus loading each config; docs/benchmarks/compare.{json,*.svg}
	$(TSX) bench/compare.ts

# Publishing figures on a shared machine: `flock /tmp/vigil-bench.lock make bench-compare-shards`.
.PHONY: bench-compare-shards
bench-compare-shards: deps tools prometheus-operator-tool ## Vigil's shards vs prometheus-operator's `shards` at N=2 (BENCH_SHARDS_N) for 200 services (BENCH_SHARDS_SERVICES), N real Prometheus each: per shard peak RSS, config and rule bytes, targets, false ServiceDown alerts while all are healthy; docs/benchmarks/compare-shards.{json,svg}
	$(TSX) bench/compare-shards.ts

.PHONY: bench-memory
bench-memory: deps tools ## Memory of the operator and both sync sidecars (compiled, as in the image) at idle and after BENCH_MEMORY_SERVICES=10 MonitoredServices: RSS, anon/file RSS, V8 heap; docs/benchmarks/control-plane-memory.json
	npm run build
	mkdir -p dist/operator/wasm && rm -rf dist/operator/wasm/dist && cp -r operator/wasm/dist dist/operator/wasm/dist
	$(TSX) bench/control-plane-memory.ts
