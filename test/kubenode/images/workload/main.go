// Command workload is the test pods' program in the single-node cluster:
// `workload serve PORT` answers each TCP connection with what it reads,
// `workload connect HOST:PORT` opens a connection, sends a line and reads
// the answer every 200 ms, until it is stopped.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: workload serve PORT | workload connect HOST:PORT")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2])
	case "connect":
		connect(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "workload:", err)
		os.Exit(1)
	}
}

func serve(port string) error {
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

func connect(addr string) {
	for ; ; time.Sleep(200 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "workload:", err)
			continue
		}
		_ = c.SetDeadline(time.Now().Add(time.Second))
		_, err = fmt.Fprintln(c, "hello")
		if err == nil {
			_, err = bufio.NewReader(c).ReadString('\n')
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "workload:", err)
		}
		c.Close()
	}
}
