package bench

import (
	"math"
	"slices"
	"time"
)

// Distribution summarises durations in milliseconds.
type Distribution struct {
	Count  int     `json:"count"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
}

// summarize sorts ds in place and returns its nearest-rank percentiles.
func summarize(ds []time.Duration) Distribution {
	if len(ds) == 0 {
		return Distribution{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Distribution{
		Count:  len(ds),
		P50Ms:  ms(percentile(ds, 0.50)),
		P90Ms:  ms(percentile(ds, 0.90)),
		P99Ms:  ms(percentile(ds, 0.99)),
		MaxMs:  ms(ds[len(ds)-1]),
		MeanMs: ms(sum / time.Duration(len(ds))),
	}
}

// percentile is the nearest-rank percentile of sorted durations: the
// smallest value that at least p of them do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// perSecond is n over d, 0 when d is not positive.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10
}
