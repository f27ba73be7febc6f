# Foundation: the MonitoredService API (CRD from the zod schema), validation and `vigil render`.

.PHONY: check-generated
check-generated: deps ## Fail when crds/ differs from what operator/api/schema.ts generates
	node node_modules/tsx/dist/cli.mjs operator/api/generate-crd.ts --check

.PHONY: render-examples
render-examples: deps ## Validate examples/ and write the generated Prometheus/Alertmanager config to ./vigil-out
	node operator/bin/vigil.js render -f examples --out vigil-out

.PHONY: check-invalid-fixtures
check-invalid-fixtures: deps ## Show how vigil render reports the broken objects in test/fixtures/invalid (expects exit 1)
	@out=$$(mktemp -d); rc=0; node operator/bin/vigil.js render -f test/fixtures/invalid --out "$$out" || rc=$$?; rm -rf "$$out"; test $$rc -eq 1
