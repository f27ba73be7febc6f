package main

import (
	"slices"

	"github.com/prometheus/prometheus/promql/parser"
)

type functionJSON struct {
	Name         string   `json:"name"`
	ArgTypes     []string `json:"argTypes"`
	Variadic     int      `json:"variadic"`
	ReturnType   string   `json:"returnType"`
	Experimental bool     `json:"experimental"`
}

type aggregationJSON struct {
	Name         string `json:"name"`
	HasParam     bool   `json:"hasParam"`
	Experimental bool   `json:"experimental"`
}

type operatorJSON struct {
	Op         string `json:"op"`
	Comparison bool   `json:"comparison"`
	Set        bool   `json:"set"`
}

type grammarResponse struct {
	Functions    []functionJSON    `json:"functions"`
	Aggregations []aggregationJSON `json:"aggregations"`
	Operators    []operatorJSON    `json:"operators"`
}

// grammar lists the functions, aggregations and binary operators of the pinned parser, so the
// agreement corpus (operator/validate/promtool-agreement.int.test.ts) covers all of them.
func grammar() grammarResponse {
	out := grammarResponse{}
	for _, f := range parser.Functions {
		args := make([]string, len(f.ArgTypes))
		for i, t := range f.ArgTypes {
			args[i] = string(t)
		}
		out.Functions = append(out.Functions, functionJSON{Name: f.Name, ArgTypes: args, Variadic: f.Variadic, ReturnType: string(f.ReturnType), Experimental: f.Experimental})
	}
	slices.SortFunc(out.Functions, func(a, b functionJSON) int { return compare(a.Name, b.Name) })
	for item, text := range parser.ItemTypeStr {
		switch {
		case item.IsAggregator():
			out.Aggregations = append(out.Aggregations, aggregationJSON{Name: text, HasParam: item.IsAggregatorWithParam(), Experimental: item.IsExperimentalAggregator()})
		case item.IsOperator() && !slices.Contains([]string{"=", "=~", "!~", "@"}, text): // matchers and the @ modifier are not binary operators
			out.Operators = append(out.Operators, operatorJSON{Op: text, Comparison: item.IsComparisonOperator(), Set: item.IsSetOperator()})
		}
	}
	slices.SortFunc(out.Aggregations, func(a, b aggregationJSON) int { return compare(a.Name, b.Name) })
	slices.SortFunc(out.Operators, func(a, b operatorJSON) int { return compare(a.Op, b.Op) })
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
