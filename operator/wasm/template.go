package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	text_template "text/template"
	"text/template/parse"
	"unsafe"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"
)

// templateDefs: the variables Prometheus defines before an alert's annotation or label template
// (rules/alerting.go and model/rulefmt/rulefmt.go of the pinned version: the same four, joined
// without separators, so line numbers in errors are the author's).
var templateDefs = strings.Join([]string{
	"{{$labels := .Labels}}",
	"{{$externalLabels := .ExternalLabels}}",
	"{{$externalURL := .ExternalURL}}",
	"{{$value := .Value}}",
}, "")

// probeValues: alert values the template is expanded with. Different signs and magnitudes take
// the common branches of if/gt/lt on $value; output that differs between them depends on the value.
var probeValues = []float64{0, 1, -3, 12345.678}

type templateRequest struct {
	Text string `json:"text"`
	// Name: the rule's alert name; Prometheus names the template __alert_<name>.
	Name string `json:"name"`
	// Labels: values known at render time; every other label the template reads gets a
	// representative non-empty value (a word, then a number), so with/if on it run their body.
	Labels map[string]string `json:"labels"`
	// ReferencedLabels: labels whose references are listed in the response (for substitution).
	ReferencedLabels []string `json:"referencedLabels"`
	// ParseOnly: list functions and references without expanding (rendering needs no more).
	ParseOnly bool `json:"parseOnly"`
}

type labelReferenceJSON struct {
	Name string `json:"name"`
	// Start/End: UTF-16 offsets of the reference in Text.
	Start int `json:"start"`
	End   int `json:"end"`
}

type templateResponse struct {
	// ParseError: Prometheus's own error when it loads the rule (promtool check rules says the same).
	ParseError string `json:"parseError,omitempty"`
	// ExpandError: the first error of an expansion with the probe values, as the alert would show it.
	ExpandError string `json:"expandError,omitempty"`
	// CostError: why the template is refused as too costly to expand (a range over a number, a huge
	// printf width, output above maxExpansionBytes); it is then not expanded (or expansion stopped).
	CostError      string               `json:"costError,omitempty"`
	DependsOnValue bool                 `json:"dependsOnValue"`
	Functions      []string             `json:"functions"`
	References     []labelReferenceJSON `json:"references"`
	// Labels: every label name the template reads (any name, not only ReferencedLabels), sorted.
	Labels []string `json:"labels"`
}

// checkTemplate parses an alert template with Prometheus's template package and expands it with
// representative data, as Prometheus does when the alert fires. A template calling query is not
// expanded (it would run PromQL); the caller sees it in Functions.
func checkTemplate(req templateRequest) templateResponse {
	out := templateResponse{Functions: []string{}, References: []labelReferenceJSON{}}
	name := "__alert_" + req.Name
	full := templateDefs + req.Text
	tmpl, err := parseAlertTemplate(name, full)
	if err != nil {
		out.ParseError = err.Error()
		return out
	}
	trees := map[string]*parse.Tree{}
	for _, t := range tmpl.Templates() {
		trees[t.Name()] = t.Tree
	}
	seen := map[string]bool{}
	wanted := map[string]bool{}
	for _, l := range req.ReferencedLabels {
		wanted[l] = true
	}
	read := map[string]bool{}
	for treeName, tree := range trees {
		walkTemplate(tree.Root, func(n parse.Node) {
			if id, ok := n.(*parse.IdentifierNode); ok && !seen[id.Ident] {
				seen[id.Ident] = true
				out.Functions = append(out.Functions, id.Ident)
			}
		})
		if treeName != name {
			continue
		}
		for _, ref := range labelReferences(tree.Root, true) {
			read[ref.name] = true
			if !wanted[ref.name] || int(ref.start) < len(templateDefs) || int(ref.end) > len(full) {
				continue
			}
			if span := full[ref.start:ref.end]; ref.written != "" && span != ref.written || ref.written == "" && !strings.HasPrefix(span, "index") {
				continue // a position this walk misread: leave the reference as written
			}
			start, end := int(ref.start)-len(templateDefs), int(ref.end)-len(templateDefs)
			out.References = append(out.References, labelReferenceJSON{
				Name: ref.name, Start: utf16Offset(req.Text, start), End: utf16Offset(req.Text, end),
			})
		}
	}
	out.Labels = make([]string, 0, len(read))
	for l := range read {
		out.Labels = append(out.Labels, l)
	}
	slices.Sort(out.Labels)
	if seen["query"] || req.ParseOnly {
		return out
	}
	for _, tree := range trees {
		if msg := costlyNode(tree.Root); msg != "" {
			out.CostError = msg
			return out
		}
	}
	// Label values are unknown until the alert fires: a failure counts only when the template fails
	// with a word and with a number as the value of every label it reads (humanize on a status code
	// label is fine; .Length on any string is not).
	var firstErr error
	for _, probe := range []string{"x", "1"} {
		lbls := map[string]string{}
		for l := range read {
			lbls[l] = probe
		}
		maps.Copy(lbls, req.Labels)
		depends, err := expandProbes(tmpl, name, lbls)
		if errors.Is(err, errTooLarge) {
			out.CostError = fmt.Sprintf("expands to (or builds a value of) more than %d KiB: the email would carry it at every notification and Prometheus would expand it at every evaluation; keep alert templates to a few lines", maxExpansionBytes/1024)
			return out
		}
		if err == nil {
			out.DependsOnValue = depends
			return out
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	out.ExpandError = firstErr.Error()
	return out
}

// alertTemplateBase carries Prometheus's template functions for alert templates and missingkey=zero,
// as every Expander of a rule has them (their closures only differ in the query context, which
// Vigil never runs); cloned per template, so the functions are set up once per process.
var alertTemplateBase = text_template.New("").
	Funcs(cappedFuncs(expanderFuncs(template.NewTemplateExpander(context.Background(), "", "", nil, model.Time(0), nil, nil, nil)))).
	Option("missingkey=zero")

// cappedFuncs: Prometheus's functions and Go's string-building builtins (which a FuncMap entry of
// the same name overrides; parsing is unchanged, the names exist either way), each refusing a
// string result above maxExpansionBytes. The capped writer only sees what is printed: without
// this, {{ $a = printf "%s%s" $a $a }} repeated, or reReplaceAll with an empty pattern, would
// build gigabytes in variables without writing a byte. The panic reaches Execute as its error.
func cappedFuncs(funcs text_template.FuncMap) text_template.FuncMap {
	all := text_template.FuncMap{
		"printf": fmt.Sprintf, "print": fmt.Sprint, "println": fmt.Sprintln,
		"html": text_template.HTMLEscaper, "js": text_template.JSEscaper, "urlquery": text_template.URLQueryEscaper,
	}
	maps.Copy(all, funcs)
	if orig, ok := all["reReplaceAll"].(func(pattern, repl, text string) string); ok {
		all["reReplaceAll"] = func(pattern, repl, text string) string {
			// Bound the result before building it: each match becomes repl, whose $n references
			// are each at most the text's length.
			if re, err := regexp.Compile(pattern); err == nil {
				matches := len(re.FindAllStringIndex(text, -1))
				if matches*(len(repl)+strings.Count(repl, "$")*len(text)) > maxExpansionBytes {
					panic(errTooLarge)
				}
			}
			return orig(pattern, repl, text)
		}
	}
	for name, fn := range all {
		v := reflect.ValueOf(fn)
		t := v.Type()
		if !slices.ContainsFunc(outTypes(t), func(o reflect.Type) bool { return o.Kind() == reflect.String }) {
			continue
		}
		all[name] = reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
			var out []reflect.Value
			if t.IsVariadic() {
				out = v.CallSlice(args)
			} else {
				out = v.Call(args)
			}
			for _, o := range out {
				if o.Kind() == reflect.String && o.Len() > maxExpansionBytes {
					panic(errTooLarge)
				}
			}
			return out
		}).Interface()
	}
	return all
}

func outTypes(t reflect.Type) []reflect.Type {
	out := make([]reflect.Type, t.NumOut())
	for i := range out {
		out[i] = t.Out(i)
	}
	return out
}

// parseAlertTemplate parses as Prometheus's Expander.ParseTest and Expand do (the same function map
// and option, the template named as the rule's), once: the probes below then execute the parsed
// template, which is what Expand does after parsing. A parse error reads as ParseTest's.
func parseAlertTemplate(name, text string) (*text_template.Template, error) {
	base, err := alertTemplateBase.Clone()
	if err != nil {
		return nil, err
	}
	return base.New(name).Parse(text)
}

// expanderFuncs: the Expander's function map (Go builtins aside, Prometheus's template functions).
// The field is private; reading it keeps the functions exactly Prometheus's. A rename in a new
// Prometheus version panics here, which the agreement and unit tests catch.
func expanderFuncs(e *template.Expander) text_template.FuncMap {
	field := reflect.ValueOf(e).Elem().FieldByName("funcMap")
	return *(*text_template.FuncMap)(unsafe.Pointer(field.UnsafeAddr()))
}

// expandProbes executes the template with every probe value, wrapping errors and panics as
// Expander.Expand does; true when the text differs between the values.
func expandProbes(tmpl *text_template.Template, name string, lbls map[string]string) (bool, error) {
	var first string
	depends := false
	for i, v := range probeValues {
		result, err := execute(tmpl, name, template.AlertTemplateData(lbls, map[string]string{}, "", promql.Sample{F: v}))
		if err != nil {
			return false, err
		}
		if i == 0 {
			first = result
		} else if result != first {
			depends = true
		}
	}
	return depends, nil
}

func execute(tmpl *text_template.Template, name string, data any) (result string, resultErr error) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if resultErr, ok = r.(error); !ok {
				resultErr = fmt.Errorf("panic expanding template %v: %v", name, r)
			}
		}
	}()
	buffer := cappedWriter{limit: maxExpansionBytes}
	if err := tmpl.Execute(&buffer, data); err != nil {
		return "", fmt.Errorf("error executing template %v: %w", name, err)
	}
	return buffer.String(), nil
}

// maxExpansionBytes: the most text one expansion of an alert template may produce. An annotation
// is a few lines of an email; the operator validates in-process (256Mi), so a template that
// expands to megabytes must stop early rather than be written out.
const maxExpansionBytes = 64 * 1024

var errTooLarge = errors.New("template output too large")

// cappedWriter: a buffer that refuses writes beyond limit (text/template returns the writer's error
// unwrapped from Execute, so errors.Is finds errTooLarge).
type cappedWriter struct {
	bytes.Buffer
	limit int
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.limit {
		return 0, errTooLarge
	}
	return w.Buffer.Write(p)
}

// maxFormatWidth: the largest printf width or precision accepted; a column or a number of decimals
// never needs more, and %0999999d alone writes a megabyte.
const maxFormatWidth = 100

// formatVerb: a printf verb with its flags, width and precision (fmt's syntax; * takes them from an argument).
var formatVerb = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?(\d+|\*)?(?:\.(\[\d+\])?(\d+|\*)?)?[a-zA-Z]?`)

// costlyNode: why a template could loop or grow without bound however small its text (empty when
// it cannot). Go's text/template ranges over an integer n (a literal, a variable holding one, len) (n iterations, nestable: range 100000
// inside range 100000 never ends in practice), and printf pads to any width. Checked on the parse
// tree before expanding, as expansion in WebAssembly cannot be interrupted. Variables assigned a
// number are tracked by name (scopes aside: a name that ever holds a number counts).
func costlyNode(root parse.Node) string {
	numeric := map[string]bool{}
	msg := ""
	isNumber := func(p *parse.PipeNode) bool {
		if p == nil || len(p.Cmds) == 0 {
			return false
		}
		// The pipeline's value is its last command's: a call of len is an integer (of up to
		// 64 KiB, enough for nested ranges to run for hours).
		last := p.Cmds[len(p.Cmds)-1]
		if id, ok := last.Args[0].(*parse.IdentifierNode); ok && id.Ident == "len" {
			return true
		}
		if len(p.Cmds) != 1 || len(last.Args) != 1 {
			return false
		}
		switch a := last.Args[0].(type) {
		case *parse.NumberNode:
			return true
		case *parse.VariableNode:
			return len(a.Ident) == 1 && numeric[a.Ident[0]]
		}
		return false
	}
	walkTemplate(root, func(n parse.Node) {
		if msg != "" {
			return
		}
		switch n := n.(type) {
		case *parse.PipeNode:
			if n != nil && len(n.Decl) > 0 && isNumber(n) {
				for _, v := range n.Decl {
					numeric[v.Ident[0]] = true
				}
			}
		case *parse.RangeNode:
			if isNumber(n.Pipe) {
				msg = fmt.Sprintf("{{ range %s }} repeats its body that many times at every evaluation; range over $labels (e.g. {{ range $k, $v := $labels }}) or write the text out", n.Pipe)
			}
		case *parse.StringNode:
			for _, m := range formatVerb.FindAllStringSubmatch(n.Text, -1) {
				for _, w := range []string{m[2], m[4]} {
					if w == "*" {
						msg = fmt.Sprintf("the format %q takes its width or precision from an argument (*); write it as a number up to %d", m[0], maxFormatWidth)
					} else if w != "" && (len(w) > 6 || atoi(w) > maxFormatWidth) {
						msg = fmt.Sprintf("the format %q pads to %s characters; widths and precisions up to %d are accepted", m[0], w, maxFormatWidth)
					}
				}
			}
		}
	})
	return msg
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

type labelRef struct {
	name       string
	start, end parse.Pos
	// written: the reference's text, checked against the template at [start, end) (empty: not checked).
	written string
}

// labelReferences: $labels.x, $.Labels.x, .Labels.x (where dot is still the alert data) and the
// whole command `index $labels "x"` in a tree.
func labelReferences(node parse.Node, dotIsData bool) []labelRef {
	var refs []labelRef
	var visit func(n parse.Node, dot bool)
	visitList := func(l *parse.ListNode, dot bool) {
		if l == nil {
			return
		}
		for _, c := range l.Nodes {
			visit(c, dot)
		}
	}
	visitPipe := func(p *parse.PipeNode, dot bool) {
		if p == nil {
			return
		}
		for _, c := range p.Cmds {
			visit(c, dot)
		}
	}
	visit = func(n parse.Node, dot bool) {
		switch n := n.(type) {
		case *parse.ListNode:
			visitList(n, dot)
		case *parse.ActionNode:
			visitPipe(n.Pipe, dot)
		case *parse.IfNode:
			visitPipe(n.Pipe, dot)
			visitList(n.List, dot)
			visitList(n.ElseList, dot)
		case *parse.WithNode:
			visitPipe(n.Pipe, dot)
			visitList(n.List, false)
			visitList(n.ElseList, dot)
		case *parse.RangeNode:
			visitPipe(n.Pipe, dot)
			visitList(n.List, false)
			visitList(n.ElseList, dot)
		case *parse.TemplateNode:
			visitPipe(n.Pipe, dot)
		case *parse.PipeNode:
			visitPipe(n, dot)
		case *parse.CommandNode:
			if len(n.Args) == 3 {
				if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" && isLabelsMap(n.Args[1], dot) {
					if s, ok := n.Args[2].(*parse.StringNode); ok {
						refs = append(refs, labelRef{name: s.Text, start: id.Pos, end: s.Pos + parse.Pos(len(s.Quoted))})
						return
					}
				}
			}
			for _, a := range n.Args {
				visit(a, dot)
			}
		case *parse.VariableNode:
			if len(n.Ident) == 2 && n.Ident[0] == "$labels" || len(n.Ident) == 3 && n.Ident[0] == "$" && n.Ident[1] == "Labels" {
				refs = append(refs, chainRef(n.Ident[len(n.Ident)-1], n.Pos, n.Ident[0], n.String()))
			}
		case *parse.FieldNode:
			if dot && len(n.Ident) == 2 && n.Ident[0] == "Labels" {
				refs = append(refs, chainRef(n.Ident[1], n.Pos, "."+n.Ident[0], n.String()))
			}
		}
	}
	visit(node, dotIsData)
	return refs
}

// chainRef: the span of a reference such as $labels.x or .Labels.x. The parser positions such a
// chain at its first chained field, just after the head ($labels, $ or .Labels).
func chainRef(name string, chained parse.Pos, head, written string) labelRef {
	start := chained - parse.Pos(len(head))
	return labelRef{name: name, start: start, end: start + parse.Pos(len(written)), written: written}
}

func isLabelsMap(n parse.Node, dot bool) bool {
	switch n := n.(type) {
	case *parse.VariableNode:
		return len(n.Ident) == 1 && n.Ident[0] == "$labels" || len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "Labels"
	case *parse.FieldNode:
		return dot && len(n.Ident) == 1 && n.Ident[0] == "Labels"
	}
	return false
}

// walkTemplate calls f for every node of a template tree.
func walkTemplate(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, f)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, f)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkTemplate(a, f)
		}
	case *parse.ChainNode:
		walkTemplate(n.Node, f)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, f)
	}
}

func walkBranch(b *parse.BranchNode, f func(parse.Node)) {
	walkTemplate(b.Pipe, f)
	if b.List != nil {
		walkTemplate(b.List, f)
	}
	if b.ElseList != nil {
		walkTemplate(b.ElseList, f)
	}
}
