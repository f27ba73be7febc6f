# Renderers: golden files and the promtool/amtool checks of the rendered catalogue.

.PHONY: test-render
test-render: deps ## Renderer unit, golden and promtool/amtool tests (needs make tools)
	$(JEST) operator/render operator/promql

.PHONY: golden
golden: deps ## Rewrite test/golden from test/fixtures/catalogue (then review the diff!)
	UPDATE_GOLDEN=1 $(JEST) operator/render/golden.test.ts
	git --no-pager diff --stat -- test/golden
