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

.PHONY: local-target
local-target: deps ## Monitor your own process on 127.0.0.1:PORT with a running `make local-up` (NAME=my-app PORT=9100, optional NAMESPACE=default TO=a@example.com,b@example.com INTERVAL=5s)
	NAME='$(NAME)' PORT='$(PORT)' NAMESPACE='$(or $(NAMESPACE),default)' TO='$(TO)' INTERVAL='$(or $(INTERVAL),5s)' $(TSX) hack/local-stack/local-target.ts
