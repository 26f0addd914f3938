// Package pyjson is CPython's json module as a Python web server shows it
// on the wire, reproduced in Go: json.loads (the values it makes, and the
// messages and character offsets of json.JSONDecodeError, which FastAPI
// returns inside a 422), json.dumps(ensure_ascii=False, separators=(",",
// ":")) (the compact rendering of FastAPI's JSON responses, with Python's
// float repr), and the str() and repr() of the values those carry.
//
// It is the JSON layer of the sandbox's fake FastAPI servers
// (controllerclient/sandboxcontroller, coordinatorclient/sandboxcoordinator)
// and the home of Python-exact message texts (Repr) for the clients that
// reproduce a peer's messages. It is not a general JSON library: lmc's own
// requests and --json output go through encoding/json, and it holds no
// request models — each fake keeps its own pydantic rules (v1 for the
// controller, v2 for the coordinator).
//
// Decoded values are nil (null), bool, string, Int, Float, []any and
// *Dict. Dumps also takes int, int64, float64, *string, []string, []int64,
// Object, []Object and Raw.
package pyjson
