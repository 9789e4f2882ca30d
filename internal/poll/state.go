package poll

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"sort"

	"github.com/triggerd/triggerd/internal/store"
)

// The trigger state is the cursor after the last event a poller was given,
// signed:
//
//	base64url( version | uvarint(xid) | uvarint(seq) | mac[:16] )
//
// where mac is HMAC-SHA256 over a domain string, the tenant id, the trigger
// name, the filters (sorted, length-prefixed) and the bytes before it. The
// tenant, trigger and filters are bound by the MAC without being written
// into the state: they come with every request anyway (the tenant from the
// API key, the rest from the path and query), so a state shown to another
// tenant, used for another trigger or with other filter values, or altered
// in any byte, fails verification. That keeps the state short (26 to 40
// characters) and leaks nothing: it is the state of the URL the platform
// stores, and URLs end up in run histories.
const (
	stateVersion = 1
	macLen       = 16
	macDomain    = "triggerd polling state v1"
)

// StateError is a triggerState that cannot be used. The handler answers 400
// with its message.
type StateError struct {
	Reason string
}

func (e *StateError) Error() string { return e.Reason }

// errForeignState is the one answer to a state that fails verification:
// whether it was altered or belongs elsewhere is deliberately not told apart.
var errForeignState = &StateError{Reason: "triggerState was not issued for this tenant, trigger and filter values: " +
	"it belongs to another connection's tenant, another trigger or other filter values, or it was altered. " +
	"Use the Location of the previous response as it is; a poll without triggerState starts again at the end of the log."}

type binding struct {
	tenantID string
	trigger  string
	filters  map[string]string
}

func (b binding) mac(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	num := func(v int) {
		var n [binary.MaxVarintLen64]byte
		m.Write(n[:binary.PutUvarint(n[:], uint64(v))])
	}
	// Every field is length-prefixed and the filters counted, so no two
	// bindings feed the MAC the same bytes.
	field := func(s string) {
		num(len(s))
		m.Write([]byte(s))
	}
	field(macDomain)
	field(b.tenantID)
	field(b.trigger)
	names := make([]string, 0, len(b.filters))
	for name, v := range b.filters {
		if v != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	num(len(names))
	for _, name := range names {
		field(name)
		field(b.filters[name])
	}
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

func encodeState(key []byte, b binding, c store.Cursor) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+macLen)
	buf = append(buf, stateVersion)
	buf = binary.AppendUvarint(buf, c.XID)
	buf = binary.AppendUvarint(buf, uint64(c.Seq))
	buf = append(buf, b.mac(key, buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func decodeState(key []byte, b binding, s string) (store.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 3+macLen {
		return store.Cursor{}, &StateError{Reason: "triggerState is not a state triggerd issued (it must be the value from a previous Location, unchanged)"}
	}
	payload, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, b.mac(key, payload)) {
		return store.Cursor{}, errForeignState
	}
	// Signed by us: what follows can only fail for a state of a future
	// version.
	if payload[0] != stateVersion {
		return store.Cursor{}, &StateError{Reason: "triggerState has an unknown version; poll without triggerState to start again at the end of the log"}
	}
	var c store.Cursor
	rest := payload[1:]
	xid, n := binary.Uvarint(rest)
	if n <= 0 {
		return store.Cursor{}, errors.New("poll: signed state does not decode")
	}
	rest = rest[n:]
	seq, n := binary.Uvarint(rest)
	if n <= 0 || n != len(rest) || seq > math.MaxInt64 {
		return store.Cursor{}, errors.New("poll: signed state does not decode")
	}
	c.XID, c.Seq = xid, int64(seq)
	return c, nil
}
