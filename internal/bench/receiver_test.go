package bench

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url, id string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"id":1}`))
	require.NoError(t, err)
	req.Header.Set("webhook-id", id)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestReceiverRecordsArrivalsPerSinkAndPath(t *testing.T) {
	t.Parallel()
	rcv, err := NewReceiver("a", "b")
	require.NoError(t, err)
	defer rcv.Close()
	a := rcv.Sink("a")
	a.Expect(3)

	post(t, rcv.URL()+"/a/1", "evt_1")
	post(t, rcv.URL()+"/a/2", "evt_1") // same event, another subscriber
	post(t, rcv.URL()+"/a/1", "evt_1") // a repeat
	select {
	case <-a.Done():
		t.Fatal("done after 2 of 3 distinct arrivals")
	default:
	}
	post(t, rcv.URL()+"/a/1", "evt_2")
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not done after 3 distinct arrivals")
	}
	distinct, dups, first, last := a.Count()
	require.Equal(t, 3, distinct)
	require.Equal(t, 1, dups)
	require.False(t, last.Before(first))
	_, ok := a.Arrived("evt_1", "/a/2")
	require.True(t, ok)
	_, ok = a.Arrived("evt_2", "/a/2")
	require.False(t, ok)

	post(t, rcv.URL()+"/nowhere", "evt_3")
	require.EqualValues(t, 1, rcv.Stray())
	distinct, _, _, _ = rcv.Sink("b").Count()
	require.Zero(t, distinct, "arrivals of one sink never count in another")
}

func TestExpectAfterArrivalsClosesDone(t *testing.T) {
	t.Parallel()
	rcv, err := NewReceiver("a")
	require.NoError(t, err)
	defer rcv.Close()
	post(t, rcv.URL()+"/a/", "evt_1")
	rcv.Sink("a").Expect(1)
	select {
	case <-rcv.Sink("a").Done():
	default:
		t.Fatal("Expect of what already arrived must close Done")
	}
}

func TestCeilingClientPostsEveryRequest(t *testing.T) {
	t.Parallel()
	rcv, err := NewReceiver(PhaseCeiling)
	require.NoError(t, err)
	defer rcv.Close()
	res := RunCeilingClient(context.Background(), rcv.URL()+"/"+PhaseCeiling+"/", 4, 200, 30*time.Second)
	require.Equal(t, 200, res.Requests, res.FirstError)
	require.Zero(t, res.Errors)
	distinct, dups, _, _ := rcv.Sink(PhaseCeiling).Count()
	require.Equal(t, 200, distinct)
	require.Zero(t, dups)
}

func TestCeilingClientReportsFailures(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	res := RunCeilingClient(context.Background(), "http://"+ln.Addr().String()+"/", 2, 10, 30*time.Second)
	require.Equal(t, 0, res.Requests)
	require.Equal(t, 10, res.Errors)
	require.Contains(t, res.FirstError, "503")
}
