package mooncake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"lmc/internal/jsonscan"
)

// checkKeysTokens is checkKeys as it was, on json.Decoder tokens: the
// reference the walker is compared with.
func checkKeysTokens(path string, raw []byte, known ...string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return &ProtocolError{Method: path, Offset: -1, Msg: "the answer is not a JSON object"}
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return &ProtocolError{Method: path, Offset: -1, Msg: "the answer is not the expected JSON: " + err.Error()}
		}
		k, _ := t.(string)
		lk := strings.ToLower(k)
		if seen[lk] {
			return &ProtocolError{Method: path, Offset: int(dec.InputOffset()), Err: ErrContradiction, Msg: fmt.Sprintf("field %q appears twice", k)}
		}
		seen[lk] = true
		for _, n := range known {
			if k != n && strings.EqualFold(k, n) {
				return &ProtocolError{Method: path, Offset: int(dec.InputOffset()), Msg: fmt.Sprintf("field %q is not %q", k, n)}
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return &ProtocolError{Method: path, Offset: -1, Msg: "the answer is not the expected JSON: " + err.Error()}
		}
	}
	return nil
}

func sameCheckKeys(t *testing.T, raw string) {
	t.Helper()
	if !json.Valid([]byte(raw)) {
		return // callers only ever pass JSON encoding/json accepted
	}
	for _, known := range [][]string{answerKeys, entryKeys, nil} {
		got, want := checkKeys("/p", []byte(raw), known...), checkKeysTokens("/p", []byte(raw), known...)
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Fatalf("checkKeys(%q) = %#v, want %#v", raw, got, want)
		}
	}
}

func TestCheckKeysLikeTokens(t *testing.T) {
	for _, s := range []string{
		`{}`, ` { } `, `[]`, `"x"`, `1`, `null`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"OK":true}`,
		`{"ok":true,"Ok":false}`, `{"succ\u0065ss":true,"success":false}`, `{"SUCCESS":true}`,
		`{ "data" : { "k\"ey" : [1, {"x": "]}"}] }, "success" : true }`, `{"error":null,"values":[{"size_":1}],"ok":true}`,
		`{"\u00e9":1,"É":2}`, `{"a":"\\","b":"\\\""}`,
	} {
		sameCheckKeys(t, s)
	}
}

func FuzzCheckKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"A":2}`, `{"ok":true,"error":"x","values":[]}`, `{"success":true,"data":{"k":{"ok":false}}}`, `{"s\u0055ccess":1}`,
		`{"success":true,"data":{"a":{"ok":true,"values":[{"x":"}"}]}}}`, `{"a\"b":1,"\u0041":[{"k":"v"}],"é":null}`,
		` { "ok" : false , "error" : "OBJECT_NOT_FOUND" , "Ok" : true } `, `{"a":"\\","b":"]}"}`, `{"x":{"y":[]},"z":"\xff"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameCheckKeys(t, s) })
}

// sameEntry: whenever decodeCommon takes an entry, json.Unmarshal decodes
// it without error to the same value.
func sameEntry(t *testing.T, raw string) {
	t.Helper()
	if !json.Valid([]byte(raw)) || checkKeys("/p", []byte(raw), entryKeys...) != nil {
		return
	}
	var fast, slow jsonKeyQuery
	var keys keyList
	n, common, isObject := fast.decodeCommon([]byte(raw), &keys)
	if !common || !isObject {
		return
	}
	if jsonscan.Space([]byte(raw), n) != len(raw) {
		t.Fatalf("decodeCommon(%q) read %d bytes, not the whole entry", raw, n)
	}
	if err := json.Unmarshal([]byte(raw), &slow); err != nil {
		t.Fatalf("decodeCommon took %q, which json.Unmarshal refuses: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decodeCommon(%q) = %#v, json.Unmarshal = %#v", raw, fast, slow)
	}
}

func TestEntryDecodeLikeUnmarshal(t *testing.T) {
	for _, s := range []string{
		okEntryJSON, `{"ok":false,"error":"OBJECT_NOT_FOUND"}`, `{"ok":true,"error":null,"values":[]}`, `{"ok":true,"values":[ ]}`,
		`{"ok":true,"values":null,"nof_values":[{"size_":1}],"disk_values":[],"local_disk_values":[]}`,
		`{"ok":true,"values":[{"size_":1,"size_":2}]}`, `{"ok":true,"values":[{"SIZE_":1}]}`, `{"ok":true,"values":[{"size_":-1}]}`,
		`{"ok":true,"values":[{"size_":1.5}]}`, `{"ok":true,"values":[{"size_":18446744073709551616}]}`, `{"ok":null}`,
		`{"ok":true,"error":"\u00e9"}`, `{"ok":true,"error":"é"}`, `{"ok":true,"values":[{"protocol_":null}]}`, `{"x":1}`, `[]`, `7`,
		`{"ok":true,"values":[{"size_":1},{"buffer_address_":2,"protocol_":"tcp","transport_endpoint_":"h:1"}]}`,
	} {
		sameEntry(t, s)
	}
}

const okEntryJSON = `{"ok":true,"error":null,"values":[{"size_":1,"buffer_address_":2,"protocol_":"tcp","transport_endpoint_":"h:1"}],"disk_values":null,"local_disk_values":null,"nof_values":null}`

func FuzzEntryDecode(f *testing.F) {
	f.Add(okEntryJSON)
	f.Add(`{"ok":false,"error":"OBJECT_NOT_FOUND","values":[],"nof_values":[{"size_":0}]}`)
	f.Fuzz(func(t *testing.T, s string) { sameEntry(t, s) })
}

// sameAnswer: whenever decodeCommonAnswer takes a body, decodeJSONOnce
// accepts it and decodes the same envelope.
func sameAnswer(t *testing.T, body string) {
	t.Helper()
	fast, ok := decodeCommonAnswer([]byte(body), new(keyList))
	if !ok {
		return
	}
	var slow answer
	if err := decodeJSONOnce("/p", []byte(body), &slow); err != nil {
		t.Fatalf("decodeCommonAnswer took %q, which decodeJSONOnce refuses: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decodeCommonAnswer(%q) = %+v, decodeJSONOnce = %+v", body, fast, slow)
	}
}

func TestAnswerDecodeLikeDecoder(t *testing.T) {
	for _, s := range []string{
		`{"success":true,"data":{"a":1}}`, `{"success":false,"error":"service plane is not active"}`, ` {"success":null} `,
		`{"success":false,"error_code":-1011,"error_message":"x"}`, `{"error_code":2147483648}`, `{"error_code":-1.5}`,
		`{"SUCCESS":true,"data":{}}`, `{"success":true,"success":false}`, `{"success":"yes"}`, `{"data":null}`, `{"other":[1,2]}`,
		`{"error":"\u00e9"}`, `{"success":true,"data":{}} {}`, `[]`, `{"success":true,"data":{"k":{"ok":true}}}`,
	} {
		sameAnswer(t, s)
	}
}

func FuzzAnswerDecode(f *testing.F) {
	f.Add(`{"success":true,"data":{"a":{"ok":true}}}`)
	f.Add(`{"success":false,"error_code":-704,"error_message":"OBJECT_NOT_FOUND"}`)
	f.Fuzz(func(t *testing.T, s string) { sameAnswer(t, s) })
}
