# Load benchmark: many MonitoredServices in one burst against the real programs (bench/load.ts).
TSX := node node_modules/tsx/dist/cli.mjs

.PHONY: bench-load
bench-load: deps tools ## Apply 2,000 MonitoredServices in one burst (BENCH_SERVICES=2000); prints ConfigMap/Secret writes, reloads, time to ConfigApplied, peak RSS
	$(TSX) bench/load.ts
