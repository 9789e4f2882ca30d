// Package keyring encrypts the credentials triggerd stores (callback URLs
// and subscription secrets) with AES-256-GCM, so that a copy of the
// database or of a backup does not hand out working callback URLs. A
// keyring holds one or more keys: the first encrypts, every one decrypts,
// which is how a key is rotated (add the new key first, re-encrypt with
// triggerd keys rotate-encryption, then drop the old one).
//
// AES-GCM is NIST SP 800-38D
// (https://csrc.nist.gov/pubs/sp/800/38/d/final); with a random 96-bit
// nonce per value a key is good for far more values than triggerd ever
// stores.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeyBytes is the length of a key: AES-256.
const KeyBytes = 32

// sealedPrefix starts every encrypted value, so values written before
// encryption was configured (in clear) are told apart and read as they are.
const sealedPrefix = "enc:v1:"

// idBytes identifies the key a value was sealed with.
const idBytes = 4

// Keyring seals and opens values. A nil *Keyring stores values in clear
// and hashes with plain SHA-256: the behaviour before encryption existed.
type Keyring struct {
	keys []key
}

type key struct {
	id   [idBytes]byte
	aead cipher.AEAD
	mac  []byte
}

// Generate returns a new random key, encoded as Parse reads it.
func Generate() (string, error) {
	b := make([]byte, KeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate encryption key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// Parse reads a keyring: comma-separated keys, each 32 bytes in base64
// (standard or URL alphabet, padded or not). The first key encrypts.
// Errors name a key by its position, never by its value.
func Parse(spec string) (*Keyring, error) {
	var kr Keyring
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		raw, err := decode(part)
		if err != nil || len(raw) != KeyBytes {
			return nil, fmt.Errorf("encryption key %d is not %d bytes in base64: generate one with `openssl rand -base64 32`", i+1, KeyBytes)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		sum := sha256.Sum256(raw)
		k := key{aead: aead, mac: derive(raw, "triggerd callback index v1")}
		copy(k.id[:], sum[:idBytes])
		for _, other := range kr.keys {
			if other.id == k.id {
				return nil, fmt.Errorf("encryption key %d appears twice in the keyring", i+1)
			}
		}
		kr.keys = append(kr.keys, k)
	}
	if len(kr.keys) == 0 {
		return nil, errors.New("the encryption keyring is empty")
	}
	return &kr, nil
}

func decode(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// derive is a key for another purpose than encryption (HMAC as a PRF, the
// extract-free form of RFC 5869's expand step, https://www.rfc-editor.org/rfc/rfc5869).
func derive(k []byte, purpose string) []byte {
	h := hmac.New(sha256.New, k)
	h.Write([]byte(purpose))
	return h.Sum(nil)
}

// Seal encrypts plain with the first key, bound to aad (the row it
// belongs to, so a value copied into another row does not open).
func (kr *Keyring) Seal(plain, aad string) string {
	if kr == nil {
		return plain
	}
	k := kr.keys[0]
	out := make([]byte, idBytes, idBytes+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	copy(out, k.id[:])
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("keyring: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	out = append(out, nonce...)
	out = k.aead.Seal(out, nonce, []byte(plain), []byte(aad))
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value Seal produced with any key of the ring; a value
// stored in clear (before encryption was configured) is returned as it is.
func (kr *Keyring) Open(stored, aad string) (string, error) {
	enc, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if kr == nil {
		return "", errors.New("the value is encrypted but no encryption key is configured")
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) < idBytes {
		return "", errors.New("the encrypted value is damaged")
	}
	for _, k := range kr.keys {
		if [idBytes]byte(raw[:idBytes]) != k.id {
			continue
		}
		rest := raw[idBytes:]
		if len(rest) < k.aead.NonceSize() {
			return "", errors.New("the encrypted value is damaged")
		}
		plain, err := k.aead.Open(nil, rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():], []byte(aad))
		if err != nil {
			return "", errors.New("the encrypted value does not open with its key: damaged, or moved from another row")
		}
		return string(plain), nil
	}
	return "", errors.New("the value was encrypted with a key that is not in the keyring: add the old key after the new one")
}

// Sealed reports whether stored was written by Seal with the ring's first
// key: false for clear values and for older keys, which a rotation
// re-encrypts.
func (kr *Keyring) Sealed(stored string) bool {
	enc, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok || kr == nil {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	return err == nil && len(raw) >= idBytes && [idBytes]byte(raw[:idBytes]) == kr.keys[0].id
}

// Index is the de-duplication hash of a value with the first key: an HMAC,
// so the index cannot be used to confirm a guessed callback URL without
// the key. Without a keyring it is plain SHA-256, as before encryption.
func (kr *Keyring) Index(v string) []byte {
	if kr == nil {
		h := sha256.Sum256([]byte(v))
		return h[:]
	}
	return kr.indexWith(kr.keys[0], v)
}

// Indexes are v's hash under every key of the ring, and the plain SHA-256
// of rows written before encryption: what a lookup must match while a
// rotation is under way.
func (kr *Keyring) Indexes(v string) [][]byte {
	plain := sha256.Sum256([]byte(v))
	if kr == nil {
		return [][]byte{plain[:]}
	}
	out := make([][]byte, 0, len(kr.keys)+1)
	for _, k := range kr.keys {
		out = append(out, kr.indexWith(k, v))
	}
	return append(out, plain[:])
}

func (kr *Keyring) indexWith(k key, v string) []byte {
	h := hmac.New(sha256.New, k.mac)
	h.Write([]byte(v))
	return h.Sum(nil)
}
