// Command pacecost measures what one paced HTTP request costs a Go client in CPU on
// this machine, with nothing of cazbling in it: a loopback server (a child process, so
// that its CPU is not counted) answers a small JSON body, and the client sends n
// requests, unpaced and then paced by golang.org/x/time/rate, and prints its own CPU
// time (user + sys) per request. BENCHMARKS.md uses it to tell cazbling's CPU per item
// from the platform's cost of waking up for every paced request.
//
//	go run ./testdata/pacecost            # 500 unpaced, 60 at 2.8/s
//	go run ./testdata/pacecost 2.8 120    # 500 unpaced, 120 at 2.8/s
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		serve()
		return
	}
	perSecond, n := 2.8, 60
	if len(os.Args) > 2 {
		perSecond, _ = strconv.ParseFloat(os.Args[1], 64)
		n, _ = strconv.Atoi(os.Args[2])
	}
	srv := exec.Command(os.Args[0], "serve")
	out, err := srv.StdoutPipe()
	if err != nil {
		fail(err)
	}
	if err := srv.Start(); err != nil {
		fail(err)
	}
	defer srv.Process.Kill()
	var addr string
	if _, err := fmt.Fscanln(out, &addr); err != nil {
		fail(fmt.Errorf("read the server's address: %w", err))
	}
	url := "http://" + addr + "/produtos/1"
	client := &http.Client{Timeout: 10 * time.Second}
	run(client, url, 500, rate.NewLimiter(rate.Inf, 1), "unpaced")
	run(client, url, n, rate.NewLimiter(rate.Limit(perSecond), 1), fmt.Sprintf("paced %.1f/s", perSecond))
	idle(time.Duration(float64(n) / perSecond * float64(time.Second)))
}

// idle sleeps for d, as long as the paced run took, and prints the CPU the process
// spent doing nothing: what a paced run pays per second whatever it sends.
func idle(d time.Duration) {
	before := cpu()
	time.Sleep(d)
	spent := cpu() - before
	fmt.Printf("%-14s %4d requests in %7.1f s: cpu %6.1f ms\n", "idle", 0, d.Seconds(), float64(spent.Microseconds())/1000)
}

// run sends n requests through lim and prints the CPU the process spent on them.
func run(client *http.Client, url string, n int, lim *rate.Limiter, name string) {
	before, start := cpu(), time.Now()
	for range n {
		if err := lim.Wait(context.Background()); err != nil {
			fail(err)
		}
		resp, err := client.Get(url)
		if err != nil {
			fail(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	spent := cpu() - before
	fmt.Printf("%-14s %4d requests in %7.1f s: cpu %6.1f ms, %.3f ms per request\n",
		name, n, time.Since(start).Seconds(), float64(spent.Microseconds())/1000, float64(spent.Microseconds())/1000/float64(n))
}

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Println(ln.Addr().String())
	body := []byte(`{"data":{"id":1,"nome":"Produto","codigo":"SKU-1","preco":10.5}}`)
	fail(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pacecost:", err)
	os.Exit(1)
}
