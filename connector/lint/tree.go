package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is one value of the linted document. The linter keeps its own tree
// rather than a map[string]any or a typed OpenAPI model because every finding
// needs the JSON path of the value it is about, object keys in document order
// (so findings come out in the order an author reads the file), and tolerance
// of any shape: a rule must be able to look at `"required": "yes"` without the
// whole document failing to decode (see docs/design-lint.md).
type node struct {
	kind  kind
	keys  []string       // object keys, in document order, without duplicates
	vals  []*node        // object values, parallel to keys
	index map[string]int // key → position, only for large objects
	items []*node        // array elements
	str   string         // string value, or the literal of a number
	b     bool

	parent *node  // nil for the root
	key    string // member name in parent (objects)
	idx    int    // element index in parent (arrays)
	seq    int    // position in a pre-order walk: sorts findings in file order
	off    int    // byte offset of the value's first byte in its file
	doc    docID  // which file the node belongs to
}

// docID tells the two linted files apart.
type docID uint8

const (
	docDefinition docID = iota
	docProperties
)

// indexThreshold is the object size above which lookups use a map; below it a
// linear scan is cheaper than building one.
const indexThreshold = 16

// parseTree decodes one JSON document. The error says what is wrong with the
// input; the caller adds which file it was.
func parseTree(data []byte, doc docID) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d := &decoder{dec: dec, doc: doc, data: data}
	root, err := d.node(nil, "", 0, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the top-level value")
	}
	return root, nil
}

// maxDepth bounds nesting at encoding/json's own limit: deeper input is
// not something any JSON reader of the platform accepts either.
const maxDepth = 10000

type decoder struct {
	dec  *json.Decoder
	doc  docID
	seq  int
	data []byte
}

// valueStart returns the offset of the next value at or after off: past
// the whitespace and the ',' or ':' that separate it from the previous
// token, which InputOffset does not skip.
func (d *decoder) valueStart(off int) int {
	for off < len(d.data) {
		switch d.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

func (d *decoder) node(parent *node, key string, idx, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("values nest deeper than %d levels", maxDepth)
	}
	dec := d.dec
	d.seq++
	seq := d.seq
	off := d.valueStart(int(dec.InputOffset()))
	mk := func(k kind) *node {
		return &node{kind: k, parent: parent, key: key, idx: idx, seq: seq, off: off, doc: d.doc}
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return mk(kindNull), nil
	case bool:
		n := mk(kindBool)
		n.b = t
		return n, nil
	case json.Number:
		n := mk(kindNumber)
		n.str = string(t)
		return n, nil
	case string:
		n := mk(kindString)
		n.str = t
		return n, nil
	case json.Delim:
		switch t {
		case '{':
			n := mk(kindObject)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %v, not a string", kt)
				}
				v, err := d.node(n, key, 0, depth+1)
				if err != nil {
					return nil, err
				}
				n.set(key, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := mk(kindArray)
			for dec.More() {
				v, err := d.node(n, "", len(n.items), depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// set adds or replaces a member. A repeated key keeps its first position and
// its last value, which is what encoding/json (and the platform's JSON.NET)
// do with duplicates.
func (n *node) set(key string, v *node) {
	if i, ok := n.lookup(key); ok {
		n.vals[i] = v
		return
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
	if n.index != nil {
		n.index[key] = len(n.keys) - 1
	} else if len(n.keys) > indexThreshold {
		n.index = make(map[string]int, 2*len(n.keys))
		for i, k := range n.keys {
			n.index[k] = i
		}
	}
}

func (n *node) lookup(key string) (int, bool) {
	if n.index != nil {
		i, ok := n.index[key]
		return i, ok
	}
	for i, k := range n.keys {
		if k == key {
			return i, true
		}
	}
	return 0, false
}

// get returns the member key of an object, or nil when n is nil, not an
// object, or has no such member. Every accessor is nil-safe so that rules can
// chain lookups through documents of any shape.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	if i, ok := n.lookup(key); ok {
		return n.vals[i]
	}
	return nil
}

// has reports whether an object has the member key (of any value).
func (n *node) has(key string) bool { return n.get(key) != nil }

// isObject, isArray and isString report n's kind; false for nil.
func (n *node) isObject() bool { return n != nil && n.kind == kindObject }
func (n *node) isArray() bool  { return n != nil && n.kind == kindArray }
func (n *node) isString() bool { return n != nil && n.kind == kindString }

// text returns a string value, or "" for anything else.
func (n *node) text() string {
	if n == nil || n.kind != kindString {
		return ""
	}
	return n.str
}

// isTrue reports whether n is the JSON literal true.
func (n *node) isTrue() bool { return n != nil && n.kind == kindBool && n.b }

// members calls fn for each member of an object in document order.
func (n *node) members(fn func(key string, v *node)) {
	if n == nil || n.kind != kindObject {
		return
	}
	for i, k := range n.keys {
		fn(k, n.vals[i])
	}
}

// memberNames returns the keys of an object in document order, or nil.
func (n *node) memberNames() []string {
	if n == nil || n.kind != kindObject {
		return nil
	}
	return n.keys
}

// elems returns the elements of an array, or nil.
func (n *node) elems() []*node {
	if n == nil || n.kind != kindArray {
		return nil
	}
	return n.items
}

// strings returns the string elements of an array (others are skipped).
func (n *node) strings() []string {
	var out []string
	for _, e := range n.elems() {
		if e.kind == kindString {
			out = append(out, e.str)
		}
	}
	return out
}

// kindName names n's JSON type for messages.
func (n *node) kindName() string {
	if n == nil {
		return "missing"
	}
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[n.kind]
}

// toAny converts the tree to the generic form the JSON Schema validator
// takes: map[string]any, []any, json.Number, string, bool, nil.
func (n *node) toAny() any {
	switch n.kind {
	case kindBool:
		return n.b
	case kindNumber:
		return json.Number(n.str)
	case kindString:
		return n.str
	case kindArray:
		out := make([]any, len(n.items))
		for i, e := range n.items {
			out[i] = e.toAny()
		}
		return out
	case kindObject:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			out[k] = n.vals[i].toAny()
		}
		return out
	}
	return nil
}

// at follows JSON Pointer reference tokens (already unescaped) from n and
// returns the deepest node reached and how many tokens it consumed.
func (n *node) at(tokens []string) (*node, int) {
	cur := n
	for done, tok := range tokens {
		switch cur.kind {
		case kindObject:
			next := cur.get(tok)
			if next == nil {
				return cur, done
			}
			cur = next
		case kindArray:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(cur.items) {
				return cur, done
			}
			cur = cur.items[i]
		default:
			return cur, done
		}
	}
	return cur, len(tokens)
}

// path returns n's JSONPath from the document root, like
// $.paths['/x'].post.parameters[0]. It is computed on demand (only findings
// need it), which keeps parsing linear on deeply nested input.
func (n *node) path() string {
	if n.parent == nil {
		return "$"
	}
	var chain []*node
	for c := n; c.parent != nil; c = c.parent {
		chain = append(chain, c)
	}
	p := "$"
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		if c.parent.kind == kindArray {
			p = indexPath(p, c.idx)
		} else {
			p = childPath(p, c.key)
		}
	}
	return p
}

// childPath appends an object member to a JSONPath. Keys that are plain
// identifiers use dot notation ($.paths), anything else the bracket form with
// single quotes ($.paths['/hooks'], $.x['x-ms-trigger']), as in RFC 9535.
func childPath(parent, key string) string {
	if isIdentifier(key) {
		return parent + "." + key
	}
	var b strings.Builder
	b.Grow(len(parent) + len(key) + 4)
	b.WriteString(parent)
	b.WriteString("['")
	for _, r := range key {
		switch r {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteString("']")
	return b.String()
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && '0' <= r && r <= '9':
		default:
			return false
		}
	}
	return true
}
