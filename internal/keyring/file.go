package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// EnvVar is the environment variable the command line reads the keyring
// from (--encryption-key).
const EnvVar = "TRIGGERD_ENCRYPTION_KEY"

// FileSuffix names the generated key file beside a SQLite database.
const FileSuffix = ".key"

// ErrKeyRequired is Resolve's answer on PostgreSQL without a key.
var ErrKeyRequired = errors.New("on PostgreSQL an encryption key is required, the same on every node: set --encryption-key or " + EnvVar + " (generate one with `openssl rand -base64 32`)")

// Resolve picks the keyring a deployment uses: spec when given; otherwise,
// for a SQLite file, the key file beside it (dbFile+FileSuffix), created
// with mode 0600 if missing, and generated names that file so the caller
// can say so; for an in-memory database a key for this process only. On
// PostgreSQL (server true) a spec is required: every node must hold the
// same key, and a key generated on one node would lock the others out.
func Resolve(spec, dbFile string, server bool) (kr *Keyring, generated string, err error) {
	if strings.TrimSpace(spec) != "" {
		kr, err = Parse(spec)
		return kr, "", err
	}
	if server {
		return nil, "", ErrKeyRequired
	}
	if dbFile == "" {
		k, err := Generate()
		if err != nil {
			return nil, "", err
		}
		kr, err = Parse(k)
		return kr, "", err
	}
	path := dbFile + FileSuffix
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := Generate()
		if err != nil {
			return nil, "", err
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) { // another process created it first
			return Resolve(spec, dbFile, server)
		}
		if err != nil {
			return nil, "", fmt.Errorf("create encryption key file: %w", err)
		}
		if _, err := f.WriteString(k + "\n"); err != nil {
			f.Close()
			return nil, "", fmt.Errorf("write encryption key file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, "", fmt.Errorf("write encryption key file %s: %w", path, err)
		}
		kr, err = Parse(k)
		return kr, path, err
	}
	if err != nil {
		return nil, "", fmt.Errorf("read encryption key file: %w", err)
	}
	kr, err = Parse(string(raw))
	if err != nil {
		return nil, "", fmt.Errorf("encryption key file %s: %w", path, err)
	}
	return kr, "", nil
}
