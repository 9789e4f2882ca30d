package ident_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/ident"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"order\x00-1": "U+0000 at byte 5",
		"a\nb":        "U+000A at byte 1",
		"\x1b[31m":    "U+001B at byte 0",
		"x\u0085":     "U+0085 at byte 1",
		"ab\xff":      "not valid UTF-8 at byte 2",
	} {
		err := ident.Check("id", s)
		require.Error(t, err, s)
		require.Contains(t, err.Error(), want)
		require.Contains(t, err.Error(), "id ")
	}
	for _, s := range []string{"", "order-1001", "café ☕", "a b", "sub_01M8RNMT4KHJFK0GNS6BZGM6H0", "\ufffd"} {
		require.NoError(t, ident.Check("id", s), s)
	}
}
