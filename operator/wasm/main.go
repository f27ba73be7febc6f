//go:build js

// The PromQL parser and the alert template package of the Prometheus that Vigil deploys
// (hack/versions.env), compiled to WebAssembly and called in-process by the operator and
// `vigil render` (operator/promql/wasm.ts). What Prometheus accepts is decided here by its own
// code, not by an emulation; Vigil's own policies (namespace isolation, ranges, selectors that
// match everything) are computed on the same parsed tree.
//
// Every exported function takes and returns JSON strings (see the request/response types), so
// the JavaScript side is a thin typed wrapper.
package main

import (
	"encoding/json"
	"fmt"
	"syscall/js"
)

func main() {
	api := map[string]func(string) any{
		"analyzeExpr":      func(req string) any { return analyzeExpr(decode[exprRequest](req)) },
		"enforceNamespace": func(req string) any { return enforceNamespace(decode[enforceRequest](req)) },
		"matchLabel":       func(req string) any { return matchLabel(decode[matchRequest](req)) },
		"checkTemplate":    func(req string) any { return checkTemplate(decode[templateRequest](req)) },
		"grammar":          func(string) any { return grammar() },
		"parseAddress":     func(req string) any { return parseAddress(decode[addressRequest](req)) },
	}
	obj := js.Global().Get("Object").New()
	for name, fn := range api {
		obj.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) != 1 || args[0].Type() != js.TypeString {
				return encode(map[string]string{"error": "expects one JSON string argument"})
			}
			return encode(safely(fn, args[0].String()))
		}))
	}
	js.Global().Set("__vigilPrometheus", obj)
	select {} // keep the functions callable
}

// safely turns a panic into an error response: one odd input must never take the process down.
func safely(fn func(string) any, req string) (out any) {
	defer func() {
		if r := recover(); r != nil {
			out = map[string]string{"error": fmt.Sprintf("internal error: %v", r)}
		}
	}()
	return fn(req)
}

func decode[T any](req string) T {
	var v T
	if err := json.Unmarshal([]byte(req), &v); err != nil {
		panic(fmt.Sprintf("bad request %q: %v", req, err))
	}
	return v
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}
