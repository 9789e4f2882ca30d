package bench

import (
	"net"
	"net/http"
	"time"
)

// hangingReceiver is a subscriber process that is stuck: it accepts every
// connection and request and answers none until the phase ends.
type hangingReceiver struct {
	url     string
	srv     *http.Server
	release chan struct{}
}

func startHangingReceiver() (*hangingReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hangingReceiver{url: "http://" + ln.Addr().String(), release: make(chan struct{})}
	h.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-h.release:
			case <-r.Context().Done():
			}
		}),
	}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

// close ends the hanging requests and the server.
func (h *hangingReceiver) close() {
	close(h.release)
	_ = h.srv.Close()
}
