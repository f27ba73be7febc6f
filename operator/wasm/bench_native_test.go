//go:build !js

package main

import "testing"

func BenchmarkTemplate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		checkTemplate(templateRequest{Text: "{{ $labels.instance }} fails {{ $value | humanizePercentage }} of requests", Name: "A", Labels: map[string]string{"namespace": "a", "alertname": "A"}})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for i := 0; i < b.N; i++ {
		analyzeExpr(exprRequest{Expr: `sum by (instance) (rate(http_requests_total{code=~"5..", route="/r1"}[5m])) / sum by (instance) (rate(http_requests_total{route="/r1"}[5m])) > 0.01`})
	}
}
