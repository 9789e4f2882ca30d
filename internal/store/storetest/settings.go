package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// settings checks settings shared by every node.
func (s suite) settings(t *testing.T) {
	t.Parallel()
	t.Run("Settings", func(t *testing.T) {
		t.Parallel()
		b := s.setup(t)
		got, err := b.st.EnsureSetting(b.ctx, "test_key", []byte("first"), b.now)
		require.NoError(t, err)
		require.Equal(t, []byte("first"), got)
		got, err = b.st.EnsureSetting(b.ctx, "test_key", []byte("second"), b.now)
		require.NoError(t, err)
		require.Equal(t, []byte("first"), got, "the first value stored stays")
	})
}
