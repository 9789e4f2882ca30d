package keyring_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/keyring"
)

func newKey(t *testing.T) string {
	t.Helper()
	k, err := keyring.Generate()
	require.NoError(t, err)
	return k
}

func TestSealOpenRotate(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newKey(t), newKey(t)
	old, err := keyring.Parse(oldKey)
	require.NoError(t, err)
	const url = "https://prod-1.logic.azure.com/workflows/x/run?sig=CANARY"
	sealed := old.Seal(url, "sub_1")
	require.NotContains(t, sealed, "CANARY")
	require.NotEqual(t, sealed, old.Seal(url, "sub_1"), "a fresh nonce every time")
	got, err := old.Open(sealed, "sub_1")
	require.NoError(t, err)
	require.Equal(t, url, got)
	_, err = old.Open(sealed, "sub_2")
	require.ErrorContains(t, err, "another row", "bound to its row")
	require.True(t, old.Sealed(sealed))

	// The new key first, the old one still opening what it sealed.
	both, err := keyring.Parse(newKey + ", " + oldKey)
	require.NoError(t, err)
	got, err = both.Open(sealed, "sub_1")
	require.NoError(t, err)
	require.Equal(t, url, got)
	require.False(t, both.Sealed(sealed), "sealed with an older key: a rotation re-encrypts it")
	require.True(t, both.Sealed(both.Seal(url, "sub_1")))
	onlyNew, err := keyring.Parse(newKey)
	require.NoError(t, err)
	_, err = onlyNew.Open(sealed, "sub_1")
	require.ErrorContains(t, err, "not in the keyring")

	// Values in clear, from before encryption, read as they are.
	got, err = both.Open("whsec_plain", "sub_1")
	require.NoError(t, err)
	require.Equal(t, "whsec_plain", got)
	var none *keyring.Keyring
	require.Equal(t, "x", none.Seal("x", "a"))
	_, err = none.Open(sealed, "sub_1")
	require.ErrorContains(t, err, "no encryption key")

	// The index is keyed: it differs per key and from a bare hash, and a
	// lookup during rotation matches all of them.
	require.NotEqual(t, old.Index(url), both.Index(url))
	require.NotEqual(t, none.Index(url), old.Index(url))
	idx := both.Indexes(url)
	require.Len(t, idx, 3)
	require.Equal(t, both.Index(url), idx[0])
	require.Equal(t, old.Index(url), idx[1])
	require.Equal(t, none.Index(url), idx[2])
}

func TestParseRefusesBadKeysWithoutQuotingThem(t *testing.T) {
	t.Parallel()
	good := newKey(t)
	for spec, want := range map[string]string{
		"":                            "empty",
		"c2hvcnQ=":                    "key 1 is not 32 bytes",
		good + ",notbase64!!":         "key 2 is not 32 bytes",
		good + "," + good:             "appears twice",
		strings.Repeat("A", 43) + "=": "", // 32 zero bytes: valid, if unwise
	} {
		_, err := keyring.Parse(spec)
		if want == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, want, spec)
		require.NotContains(t, err.Error(), good)
		require.NotContains(t, err.Error(), "notbase64")
	}
}
