package periodic_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/periodic"
)

func TestRunnerRunsAtOnceAndUntilStopped(t *testing.T) {
	t.Parallel()
	var r periodic.Runner
	runs := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, r.Start(ctx, time.Millisecond, func(context.Context) { runs <- struct{}{} }))
	require.ErrorIs(t, r.Start(ctx, time.Millisecond, func(context.Context) {}), periodic.ErrStarted)
	<-runs
	cancel() // the caller's context ending does not stop the runs
	<-runs
	<-runs
	require.NoError(t, r.Stop(context.Background()))
	n := len(runs)
	require.NoError(t, r.Stop(context.Background()), "stopping twice is fine")
	require.LessOrEqual(t, len(runs), n, "nothing runs after Stop")
	require.Error(t, r.Start(context.Background(), 0, func(context.Context) {}))
}

func TestStopWaitsForARunUntilItsContextEnds(t *testing.T) {
	t.Parallel()
	var r periodic.Runner
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	require.NoError(t, r.Start(context.Background(), time.Hour, func(context.Context) {
		close(started)
		<-release // ignores its context: Stop must give up waiting
	}))
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, r.Stop(ctx), context.Canceled)
}
