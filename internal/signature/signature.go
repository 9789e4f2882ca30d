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
	"strconv"
	"strings"
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
type Signer struct {
	key []byte
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
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	out := make([]byte, 3, 3+base64.StdEncoding.EncodedLen(sha256.Size))
	copy(out, "v1,")
	out = base64.StdEncoding.AppendEncode(out, mac.Sum(sum[:0]))
	return string(out)
}

// SignAll returns the webhook-signature header value signed with each of
// secrets, space-separated, as Standard Webhooks allows so that a receiver
// still verifying with the previous secret keeps working while a rotation's
// grace period lasts
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme).
// secrets holds one or more serialized secrets separated by spaces.
func SignAll(secrets, id string, timestamp int64, body []byte) (string, error) {
	fields := strings.Fields(secrets)
	if len(fields) == 0 {
		return "", errors.New("no signing secret")
	}
	sigs := make([]string, len(fields))
	for i, sec := range fields {
		s, err := NewSigner(sec)
		if err != nil {
			return "", err
		}
		sigs[i] = s.Sign(id, timestamp, body)
	}
	return strings.Join(sigs, " "), nil
}
