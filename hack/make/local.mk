# The alert pipeline as local processes (no Docker): hack/local-stack/. Needs root (port 465).

.PHONY: local-up
local-up: deps tools ## Run the whole stack locally (API server, operator, Prometheus, Alertmanager, stunnel, Mailpit, demo target) until Ctrl-C
	$(TSX) hack/local-stack/up.ts

.PHONY: outage
outage: ## Stop the demo target of a running `make local-up` and wait for the firing email
	$(TSX) hack/local-stack/outage.ts outage

.PHONY: restore
restore: ## Start the demo target again and wait for the resolved email
	$(TSX) hack/local-stack/outage.ts restore

.PHONY: bench
bench: deps tools ## Measure outage-to-email latency of the local stack (BENCH_RUNS=5, BENCH_OUTAGE=process|endpoints); prints min/median/max
	$(TSX) bench/alert-latency.ts
