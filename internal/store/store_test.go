package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/store"
)

func TestSigningSecrets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	until := now.Add(time.Hour)
	s := store.Subscription{Secret: "whsec_new", PreviousSecret: "whsec_old", PreviousSecretUntil: &until}
	require.Equal(t, "whsec_new whsec_old", s.SigningSecrets(now))
	require.Equal(t, "whsec_new whsec_old", s.SigningSecrets(until.Add(-time.Nanosecond)))
	require.Equal(t, "whsec_new", s.SigningSecrets(until), "the grace ends at until")
	require.Equal(t, "whsec_new", store.Subscription{Secret: "whsec_new"}.SigningSecrets(now))
	s.PreviousSecret = ""
	require.Equal(t, "whsec_new", s.SigningSecrets(now))
}
