// Package signature signs notifications the Standard Webhooks way
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md): HMAC-SHA256 over "id.timestamp.body" with a
// per-subscription secret serialized as "whsec_" + base64. Receivers verify
// with any Standard Webhooks or Svix library.
package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// SecretPrefix marks a symmetric Standard Webhooks secret.
const SecretPrefix = "whsec_"

// SecretBytes is the length of a generated secret; the spec asks for 24 to 64
// random bytes.
const SecretBytes = 32

// NewSecret returns a fresh random secret in its serialized form.
func NewSecret() (string, error) {
	b := make([]byte, SecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate signing secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Signer signs with one secret. It is safe for concurrent use.
//
// Keying an HMAC costs two SHA-256 states and their pads; a Signer keeps
// keyed states in a pool and only resets one per signature, so signing the
// many notifications of one subscription allocates just the header value.
type Signer struct {
	key  []byte
	pool sync.Pool // of *macState
}

// macState is one keyed HMAC with the scratch space of a signature.
type macState struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
	// prefix holds "id.timestamp." (a ULID message id fits many times).
	prefix [96]byte
}

// NewSigner decodes a serialized secret.
func NewSigner(secret string) (*Signer, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("signing secret must start with " + SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, errors.New("signing secret is not valid base64")
	}
	return &Signer{key: key}, nil
}

// Sign returns the webhook-signature header value for a message: "v1," and
// the base64 HMAC of "id.timestamp.body".
func (s *Signer) Sign(id string, timestamp int64, body []byte) string {
	st := s.state()
	defer s.pool.Put(st)
	st.buf = s.appendSign(st, st.buf[:0], id, timestamp, body)
	return string(st.buf)
}

func (s *Signer) state() *macState {
	if st, ok := s.pool.Get().(*macState); ok {
		st.mac.Reset()
		return st
	}
	return &macState{mac: hmac.New(sha256.New, s.key), buf: make([]byte, 0, 128)}
}

// appendSign appends "v1," and the signature to dst, using st (reset) for
// the HMAC and its scratch buffer only after dst is no longer needed.
func (s *Signer) appendSign(st *macState, dst []byte, id string, timestamp int64, body []byte) []byte {
	// "id.timestamp." goes in as one write, built in the state's own
	// array when it fits, so nothing is allocated per call.
	prefix := append(st.prefix[:0], id...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, timestamp, 10)
	prefix = append(prefix, '.')
	st.mac.Write(prefix)
	st.mac.Write(body)
	sum := st.mac.Sum(st.sum[:0])
	dst = append(dst, "v1,"...)
	return base64.StdEncoding.AppendEncode(dst, sum)
}

// SignAll returns the webhook-signature header value signed with each of
// secrets, space-separated, as Standard Webhooks allows so that a receiver
// still verifying with the previous secret keeps working while a rotation's
// grace period lasts
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme).
// secrets holds one or more serialized secrets separated by spaces.
func SignAll(secrets, id string, timestamp int64, body []byte) (string, error) {
	return signAll(secrets, id, timestamp, body, NewSigner)
}

func signAll(secrets, id string, timestamp int64, body []byte, signer func(string) (*Signer, error)) (string, error) {
	var out []byte
	n := 0
	// A plain loop over the fields, as a range-over-func closure would
	// cost an allocation per call.
	for rest := strings.TrimSpace(secrets); rest != ""; {
		sec, after, _ := strings.Cut(rest, " ")
		rest = strings.TrimLeft(after, " ")
		s, err := signer(sec)
		if err != nil {
			return "", err
		}
		if n > 0 {
			out = append(out, ' ')
		}
		st := s.state()
		if out == nil {
			out = make([]byte, 0, 3+base64.StdEncoding.EncodedLen(sha256.Size))
		}
		out = s.appendSign(st, out, id, timestamp, body)
		s.pool.Put(st)
		n++
	}
	if n == 0 {
		return "", errors.New("no signing secret")
	}
	return string(out), nil
}

// CacheMax bounds the signers a Cache keeps: about one per subscription
// that receives deliveries. Past it the cache starts afresh, which costs a
// few decodes, never a wrong signature.
const CacheMax = 10000

// Cache keeps a Signer per serialized secret, so the deliveries of one
// subscription decode its secret and key its HMAC once, not once per
// notification. It is safe for concurrent use; the zero value is ready.
// It holds secrets in memory as the subscriptions that carry them do, and
// never shows them.
type Cache struct {
	mu      sync.RWMutex
	signers map[string]*Signer
}

// SignAll is the package's SignAll with the signers of c.
func (c *Cache) SignAll(secrets, id string, timestamp int64, body []byte) (string, error) {
	return signAll(secrets, id, timestamp, body, c.signer)
}

func (c *Cache) signer(secret string) (*Signer, error) {
	c.mu.RLock()
	s, ok := c.signers[secret]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := NewSigner(secret)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.signers == nil || len(c.signers) >= CacheMax {
		c.signers = make(map[string]*Signer)
	}
	c.signers[secret] = s
	c.mu.Unlock()
	return s, nil
}
