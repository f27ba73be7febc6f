package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
)

// The options of Prometheus 3.15's server and promtool without --enable-feature flags
// (cmd/prometheus/main.go and cmd/promtool/main.go both start from these).
var promqlParser = parser.NewParser(parser.Options{ExperimentalDurationExpr: true})

type exprRequest struct {
	Expr string `json:"expr"`
}

type matcherJSON struct {
	Name  string `json:"name"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

type selectorJSON struct {
	// Text is the selector as written (with its offset/@ modifiers, which Prometheus folds into it).
	Text     string        `json:"text"`
	Metric   string        `json:"metric,omitempty"`
	Matchers []matcherJSON `json:"matchers"`
	// Narrowing is false when no metric name is given and every matcher lets (nearly) every
	// non-empty value through (=~".+", !="", ...): the selector reads every series it may see.
	Narrowing bool `json:"narrowing"`
}

type rangeSourceJSON struct {
	Kind     string        `json:"kind"` // selector | subquery
	Metric   string        `json:"metric,omitempty"`
	Matchers []matcherJSON `json:"matchers,omitempty"`
	// StepMs: a subquery's step; null when it has none (the global evaluation interval) or it is an expression.
	StepMs *float64 `json:"stepMs,omitempty"`
}

type rangeUseJSON struct {
	Fn      string          `json:"fn"`
	Text    string          `json:"text"`
	RangeMs *float64        `json:"rangeMs"`
	Source  rangeSourceJSON `json:"source"`
}

type subqueryJSON struct {
	Text    string   `json:"text"`
	RangeMs *float64 `json:"rangeMs"`
	StepMs  *float64 `json:"stepMs"`
}

type exprResponse struct {
	// Error is Prometheus's own parse error; nothing else is set then.
	Error      string         `json:"error,omitempty"`
	Type       string         `json:"type,omitempty"`
	Selectors  []selectorJSON `json:"selectors,omitempty"`
	Ranges     []rangeUseJSON `json:"ranges,omitempty"`
	Subqueries []subqueryJSON `json:"subqueries,omitempty"`
	// EvalError: the error Prometheus's rule evaluation fails with before reading any data (a
	// duration expression that is not positive, NaN, out of range or divides by zero).
	EvalError string `json:"evalError,omitempty"`
	// ResultLabels: an upper bound of the result series' label names (resultLabels); absent when unbounded.
	ResultLabels *[]string `json:"resultLabels,omitempty"`
}

// analyzeExpr parses expr as Prometheus does and lists what Vigil's checks read: the result type,
// every vector selector, every range a function reads, every subquery.
func analyzeExpr(req exprRequest) exprResponse {
	expr, err := promqlParser.ParseExpr(req.Expr)
	if err != nil {
		return exprResponse{Error: err.Error()}
	}
	out := exprResponse{Type: string(expr.Type()), Selectors: []selectorJSON{}, Ranges: []rangeUseJSON{}, Subqueries: []subqueryJSON{}}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			metric, matchers := selectorMatchers(n)
			out.Selectors = append(out.Selectors, selectorJSON{
				Text: slice(req.Expr, n.PosRange), Metric: metric, Matchers: matchers, Narrowing: narrowing(n),
			})
		case *parser.SubqueryExpr:
			out.Subqueries = append(out.Subqueries, subqueryJSON{
				Text: slice(req.Expr, n.PositionRange()), RangeMs: durationMs(n.Range, n.RangeExpr), StepMs: stepMs(n),
			})
		case *parser.Call:
			for _, arg := range n.Args {
				if use, ok := rangeUse(n.Func.Name, arg, req.Expr); ok {
					out.Ranges = append(out.Ranges, use)
				}
			}
		}
		return nil
	})
	if bound := resultLabels(expr); bound != nil {
		names := make([]string, 0, len(bound))
		for l := range bound {
			names = append(names, l)
		}
		slices.Sort(names)
		out.ResultLabels = &names
	}
	out.EvalError = ruleEvalError(expr)
	return out
}

// ruleEvalError: the error the rule manager's instant query (rules.EngineQueryFunc →
// NewInstantQuery) fails with at every evaluation before reading data: PreprocessExpr evaluates
// duration expressions with step() and range() both 0s (start == end, interval 0) and refuses
// ranges and subquery steps that are not positive (offsets may be negative). Run last: it
// rewrites the tree (durations filled in, step-invariant parts wrapped).
func ruleEvalError(expr parser.Expr) (msg string) {
	defer func() {
		if recover() != nil {
			msg = "" // the evaluation would panic rather than refuse it: not this check's concern
		}
	}()
	t := time.UnixMilli(0)
	if _, err := promql.PreprocessExpr(expr, t, t, 0); err != nil {
		return err.Error()
	}
	return ""
}

// rangeUse: the range a function argument hands it. Parentheses and @/offset on a subquery move
// the range in time without changing how many samples it holds, so they are looked through.
func rangeUse(fn string, arg parser.Expr, expr string) (rangeUseJSON, bool) {
	for {
		switch n := arg.(type) {
		case *parser.ParenExpr:
			arg = n.Expr
			continue
		case *parser.StepInvariantExpr:
			arg = n.Expr
			continue
		case *parser.MatrixSelector:
			vs, ok := n.VectorSelector.(*parser.VectorSelector)
			if !ok {
				return rangeUseJSON{}, false
			}
			metric, matchers := selectorMatchers(vs)
			return rangeUseJSON{
				Fn: fn, Text: slice(expr, n.PositionRange()), RangeMs: durationMs(n.Range, n.RangeExpr),
				Source: rangeSourceJSON{Kind: "selector", Metric: metric, Matchers: matchers},
			}, true
		case *parser.SubqueryExpr:
			return rangeUseJSON{
				Fn: fn, Text: slice(expr, n.PositionRange()), RangeMs: durationMs(n.Range, n.RangeExpr),
				Source: rangeSourceJSON{Kind: "subquery", StepMs: stepMs(n)},
			}, true
		}
		return rangeUseJSON{}, false
	}
}

// durationMs: a literal range in milliseconds; nil when the range is an expression (5m + 1m,
// step()), known only at evaluation.
func durationMs(d time.Duration, e *parser.DurationExpr) *float64 {
	if e != nil {
		if lit, ok := durationLiteral(e); ok {
			return &lit
		}
		return nil
	}
	ms := float64(d) / float64(time.Millisecond)
	return &ms
}

func durationLiteral(e *parser.DurationExpr) (float64, bool) {
	if e.Op == 0 && e.LHS == nil {
		if n, ok := e.RHS.(*parser.NumberLiteral); ok {
			return n.Val * 1000, true
		}
	}
	return 0, false
}

func stepMs(n *parser.SubqueryExpr) *float64 {
	if n.StepExpr == nil && n.Step == 0 {
		return nil
	}
	return durationMs(n.Step, n.StepExpr)
}

// selectorMatchers: the metric name (unquoted or {"name"} or __name__="x") and the other matchers.
func selectorMatchers(vs *parser.VectorSelector) (string, []matcherJSON) {
	metric := vs.Name
	out := []matcherJSON{}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual && (metric == "" || metric == m.Value) {
			metric = m.Value
			continue
		}
		out = append(out, matcherJSON{Name: m.Name, Op: m.Type.String(), Value: m.Value})
	}
	return metric, out
}

// sampleValues are ordinary label values: a matcher passing all of them passes (nearly) everything.
var sampleValues = []string{"a", "prod", "checkout-7f9c", "Z_9", "10.0.0.1:8080", "/metrics"}

func narrowing(vs *parser.VectorSelector) bool {
	if vs.Name != "" {
		return true
	}
	for _, m := range vs.LabelMatchers {
		switch m.Type {
		case labels.MatchEqual:
			return true
		case labels.MatchNotEqual:
			continue
		}
		for _, v := range sampleValues {
			if !m.Matches(v) {
				return true
			}
		}
	}
	return false
}

type matchRequest struct {
	Matcher matcherJSON `json:"matcher"`
	Values  []string    `json:"values"`
}

type matchResponse struct {
	Error   string `json:"error,omitempty"`
	Matches []bool `json:"matches"`
}

// matchLabel: whether each value passes the matcher, with Prometheus's own (RE2, anchored) matching.
func matchLabel(req matchRequest) matchResponse {
	t, ok := matchTypes[req.Matcher.Op]
	if !ok {
		return matchResponse{Error: fmt.Sprintf("unknown matcher operator %q", req.Matcher.Op)}
	}
	m, err := labels.NewMatcher(t, req.Matcher.Name, req.Matcher.Value)
	if err != nil {
		return matchResponse{Error: err.Error()}
	}
	out := make([]bool, len(req.Values))
	for i, v := range req.Values {
		out[i] = m.Matches(v)
	}
	return matchResponse{Matches: out}
}

var matchTypes = map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}

type enforceRequest struct {
	Expr  string `json:"expr"`
	Label string `json:"label"`
	Value string `json:"value"`
}

type enforceResponse struct {
	Error string `json:"error,omitempty"`
	Expr  string `json:"expr,omitempty"`
}

// enforceNamespace gives every vector selector of expr the matcher label="value", so a rule can
// only read series of its own namespace. A selector that already has exactly that matcher keeps
// it; any other matcher on the label is refused (it could only narrow the result to nothing, a
// mistake the author should hear about). The expression is rewritten where the selectors are
// written, so the author's formatting and comments stay; the rewrite is parsed back and must equal
// the enforced tree, else Prometheus's printed form of the enforced tree is returned.
func enforceNamespace(req enforceRequest) enforceResponse {
	expr, err := promqlParser.ParseExpr(req.Expr)
	if err != nil {
		return enforceResponse{Error: err.Error()}
	}
	want := fmt.Sprintf("%s=%q", req.Label, req.Value)
	var inserts []insertion
	var refusal error
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok || refusal != nil {
			return nil
		}
		scoped := false
		for _, m := range vs.LabelMatchers {
			if m.Name != req.Label {
				continue
			}
			if m.Type == labels.MatchEqual && m.Value == req.Value {
				scoped = true
				continue
			}
			refusal = fmt.Errorf("selector %s has the matcher %s: rules of a MonitoredService can only read series of its own namespace; use %s or leave the %s matcher out",
				slice(req.Expr, vs.PosRange), m.String(), want, req.Label)
			return nil
		}
		if scoped {
			return nil
		}
		vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, req.Label, req.Value))
		inserts = append(inserts, insertionFor(req.Expr, vs, want))
		return nil
	})
	if refusal != nil {
		return enforceResponse{Error: refusal.Error()}
	}
	enforced := expr.String()
	spliced := splice(req.Expr, inserts)
	if back, err := promqlParser.ParseExpr(spliced); err == nil && back.String() == enforced {
		return enforceResponse{Expr: spliced}
	}
	return enforceResponse{Expr: enforced}
}

type insertion struct {
	at   int // byte offset
	text string
}

// insertionFor: right after "{" when the selector has braces, else after the metric name.
func insertionFor(expr string, vs *parser.VectorSelector, matcher string) insertion {
	start := int(vs.PosRange.Start)
	text := expr[start:int(vs.PosRange.End)]
	if vs.Name != "" && strings.HasPrefix(text, vs.Name) {
		rest := text[len(vs.Name):]
		trimmed := strings.TrimLeft(rest, " \t\r\n")
		if strings.HasPrefix(trimmed, "{") {
			return braceInsertion(expr, start+len(vs.Name)+len(rest)-len(trimmed), matcher)
		}
		return insertion{at: start + len(vs.Name), text: "{" + matcher + "}"}
	}
	if strings.HasPrefix(text, "{") {
		return braceInsertion(expr, start, matcher)
	}
	return insertion{at: -1}
}

// braceInsertion: after the last matcher of the braces opening at brace (before a trailing comma
// or comment), or right after "{" when they are empty. Strings and comments are skipped.
func braceInsertion(expr string, brace int, matcher string) insertion {
	last, beforeComma := brace, brace // ends of the last significant token, and of the one before a comma
	for i := brace + 1; i < len(expr); i++ {
		switch c := expr[i]; c {
		case '}':
			if last != brace && expr[last-1] == ',' {
				last = beforeComma
			}
			if last == brace {
				return insertion{at: brace + 1, text: matcher}
			}
			return insertion{at: last, text: ", " + matcher}
		case ' ', '\t', '\r', '\n':
		case '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case '"', '\'', '`':
			for i++; i < len(expr) && expr[i] != c; i++ {
				if expr[i] == '\\' && c != '`' {
					i++
				}
			}
			last = i + 1
		case ',':
			beforeComma = last
			last = i + 1
		default:
			last = i + 1
		}
	}
	return insertion{at: -1}
}

func splice(expr string, inserts []insertion) string {
	slices.SortFunc(inserts, func(a, b insertion) int { return b.at - a.at })
	out := expr
	for _, in := range inserts {
		if in.at < 0 {
			return "" // not spliceable: the caller falls back to the printed tree
		}
		out = out[:in.at] + in.text + out[in.at:]
	}
	return out
}

func slice(expr string, r posrange.PositionRange) string {
	start, end := int(r.Start), int(r.End)
	if start < 0 || end > len(expr) || start > end {
		return ""
	}
	return expr[start:end]
}

// utf16Offset converts a byte offset in s to the UTF-16 offset JavaScript strings use.
func utf16Offset(s string, byteOffset int) int {
	n := 0
	for i, r := range s {
		if i >= byteOffset {
			break
		}
		if r == utf8.RuneError {
			n++
			continue
		}
		n += len(utf16.Encode([]rune{r}))
	}
	return n
}

// resultLabels: an upper bound of the label names the result series of expr can carry (without
// __name__), or nil where the expression does not bound them (a selector passes every label of its
// series through). Alert annotations are expanded with these labels only, so a template reading
// another one prints an empty value. Bounds follow the evaluation in promql/engine.go: aggregations
// keep their `by` labels (topk/bottomk/limitk/limit_ratio keep the input's), a vector-vector binary
// operation the left side's (group_left/group_right: the "many" side's plus the included labels),
// `or` both sides', a scalar side the other side's.
func resultLabels(expr parser.Expr) map[string]bool {
	switch n := expr.(type) {
	case *parser.NumberLiteral, *parser.StringLiteral:
		return map[string]bool{}
	case *parser.ParenExpr:
		return resultLabels(n.Expr)
	case *parser.UnaryExpr:
		return resultLabels(n.Expr)
	case *parser.StepInvariantExpr:
		return resultLabels(n.Expr)
	case *parser.SubqueryExpr:
		return resultLabels(n.Expr)
	case *parser.AggregateExpr:
		switch n.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
			return resultLabels(n.Expr)
		case parser.COUNT_VALUES:
			return nil // adds a label named by its parameter
		}
		if n.Without {
			return nil
		}
		out := map[string]bool{}
		for _, l := range n.Grouping {
			out[l] = true
		}
		return out
	case *parser.BinaryExpr:
		if n.Op == parser.LOR {
			return unionLabels(resultLabels(n.LHS), resultLabels(n.RHS))
		}
		if m := n.VectorMatching; m != nil && (m.Card == parser.CardManyToOne || m.Card == parser.CardOneToMany) {
			many := n.LHS
			if m.Card == parser.CardOneToMany {
				many = n.RHS
			}
			included := map[string]bool{}
			for _, l := range m.Include {
				included[l] = true
			}
			return unionLabels(resultLabels(many), included)
		}
		if n.LHS.Type() == parser.ValueTypeScalar {
			return resultLabels(n.RHS)
		}
		left := resultLabels(n.LHS)
		// One-to-one matching between vectors: the engine's resultMetric keeps only the on(...)
		// labels of the left side's series, or deletes the ignoring(...) ones (set operators are
		// many-to-many and keep the series whole; the parser drops VectorMatching unless both
		// sides are vectors).
		if m := n.VectorMatching; m != nil && m.Card == parser.CardOneToOne {
			if m.On {
				kept := map[string]bool{}
				for _, l := range m.MatchingLabels {
					if left == nil || left[l] {
						kept[l] = true
					}
				}
				return kept
			}
			if left != nil {
				for _, l := range m.MatchingLabels {
					delete(left, l)
				}
			}
		}
		return left
	case *parser.Call:
		switch n.Func.Name {
		case "vector", "time", "scalar", "pi":
			return map[string]bool{}
		case "label_replace", "label_join", "absent", "absent_over_time", "info":
			return nil // labels taken from strings or matchers, not from an argument's series
		}
		out := map[string]bool{}
		for _, arg := range n.Args {
			if t := arg.Type(); t == parser.ValueTypeScalar || t == parser.ValueTypeString {
				continue
			}
			out = unionLabels(out, resultLabels(arg))
			if out == nil {
				return nil
			}
		}
		switch n.Func.Name {
		case "histogram_quantile", "histogram_fraction", "histogram_quantiles":
			// The classic buckets of one histogram are grouped without le (engine.go
			// resetHistograms), and the result carries the group's labels.
			delete(out, "le")
		}
		if n.Func.Name == "histogram_quantiles" && len(n.Args) > 1 {
			// Adds a label, named by its second argument, holding each quantile.
			if s, ok := unwrapString(n.Args[1]); ok {
				out[s] = true
			} else {
				return nil
			}
		}
		return out
	}
	return nil
}

// unwrapString: the value of a string literal argument, through parentheses.
func unwrapString(e parser.Expr) (string, bool) {
	for {
		switch n := e.(type) {
		case *parser.ParenExpr:
			e = n.Expr
		case *parser.StepInvariantExpr:
			e = n.Expr
		case *parser.StringLiteral:
			return n.Val, true
		default:
			return "", false
		}
	}
}

func unionLabels(a, b map[string]bool) map[string]bool {
	if a == nil || b == nil {
		return nil
	}
	out := make(map[string]bool, len(a)+len(b))
	for l := range a {
		out[l] = true
	}
	for l := range b {
		out[l] = true
	}
	return out
}
