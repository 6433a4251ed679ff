package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// floor times what the server itself needs for a no-change sync: one
// getctag PROPFIND per collection, one after another on one client, Basic
// auth sent at once. It prints the median over the rounds of the summed
// time, in seconds: the floor beside which kith's no-change sync is put.
// With -parallel the collections are asked all at once, as kith asks them,
// and a round's time is the wall time until the last answer.
//
//	benchgen floor -user U -password-env VAR -rounds 7 [-parallel] URL...
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	user := fs.String("user", "", "username")
	pwEnv := fs.String("password-env", "", "environment variable holding the password")
	rounds := fs.Int("rounds", 7, "rounds to take the median of")
	parallel := fs.Bool("parallel", false, "ask every collection at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("floor: no collection URL given")
	}
	pw := os.Getenv(*pwEnv)
	getctag := func(u string) error {
		body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>`
		req, err := http.NewRequest("PROPFIND", u, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Depth", "0")
		req.Header.Set("Content-Type", "application/xml")
		req.SetBasicAuth(*user, pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMultiStatus {
			return fmt.Errorf("floor: PROPFIND %s: %s", u, resp.Status)
		}
		return nil
	}
	var sums []time.Duration
	for range max(*rounds, 1) {
		start := time.Now()
		var sum time.Duration
		if *parallel {
			errs := make([]error, fs.NArg())
			var wg sync.WaitGroup
			for i, u := range fs.Args() {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = getctag(u) }()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return err
			}
			sum = time.Since(start)
		} else {
			for _, u := range fs.Args() {
				start := time.Now()
				if err := getctag(u); err != nil {
					return err
				}
				sum += time.Since(start)
			}
		}
		sums = append(sums, sum)
	}
	slices.Sort(sums)
	fmt.Printf("%.3f\n", sums[len(sums)/2].Seconds())
	return nil
}
